// Runs in: the engine. The contract every executor honours (in-process, local worker pool, Slurm): it
// takes batches of candidate evaluations, runs up to `slots` at once, reports their states, hands each
// result back exactly once, cancels, and after an engine restart reattaches to work it still knows about.
// The written contract suite is test/unit/executors/contract.ts.
import type { ErrorCode } from '../base/errors.ts';
import type { Genome } from '../searchspace/genome.ts';
import type { EvaluationOutcome } from '../search/protocol.ts';

export interface EvaluationTask {
  /** Candidate id, unique within the run. */
  id: string;
  genome: Genome;
  indices: number[];
  /** Seed for the candidate's weight initialisation. */
  seed: number;
  /** Folder the evaluator may write into (logs, weights); absent for throwaway evaluations. */
  workDir?: string;
  /** Anything else the evaluator needs, JSON-able (e.g. training settings). */
  payload?: unknown;
}

/**
 * What the engine keeps (in the run journal) to find a task again after a restart: the executor's kind
 * and its own reference (a Slurm job id, a worker's pid, ...). JSON-able.
 */
export interface TaskHandle {
  id: string;
  executor: string;
  ref: string;
}

export type TaskState = 'queued' | 'running' | 'finished';

export interface TaskResult {
  id: string;
  outcome: EvaluationOutcome;
  /** Wall time of the evaluation in seconds, when the executor measured it. */
  seconds?: number;
}

export interface DeviceInfo {
  /** e.g. cpu, gpu:0. */
  id: string;
  description: string;
}

export interface ExecutorCapabilities {
  kind: string;
  /** Evaluations that can run at the same time (>= 1). */
  slots: number;
  devices: DeviceInfo[];
  /** Whether work submitted before a restart can be picked up again by reattach(). */
  canReattach: boolean;
}

/** The failure code a cancelled task is reported with. */
export const CANCELLED: ErrorCode = 'cancelled';

export interface Executor {
  capabilities(): Promise<ExecutorCapabilities>;
  /**
   * Queues the tasks; returns one handle per task, in order. A task id that is still pending in this
   * executor is refused with EmonasError('conflict').
   */
  submit(tasks: EvaluationTask[]): Promise<TaskHandle[]>;
  /** States of the tasks submitted or reattached and not yet collected. */
  poll(): Promise<{ id: string; state: TaskState }[]>;
  /** Results finished since the last call; every task's result is handed out exactly once. */
  collect(): Promise<TaskResult[]>;
  /** Resolves when a result is ready to collect, or after timeoutMs, whichever comes first. */
  waitForResults(timeoutMs: number): Promise<void>;
  /**
   * Stops the tasks; each one not yet finished is collected as failed with code 'cancelled'. Unknown or
   * already collected ids are ignored.
   */
  cancel(ids: string[]): Promise<void>;
  /**
   * Takes back tasks submitted before a restart (handles from the journal). Returns the ids it now tracks
   * again; the others are lost and must be submitted anew.
   */
  reattach(handles: TaskHandle[]): Promise<string[]>;
  /** Cancels whatever is pending and releases resources; submit afterwards is refused. Idempotent. */
  close(): Promise<void>;
}
