// Runs in: the engine. The local worker pool: up to `slots` candidates evaluated at once, each in a
// process of its own started by a launcher (a training worker for a dataset search, a module worker for
// custom evaluators and the contract tests). A process that crashes, runs out of memory or is killed is
// a failed outcome with its reason, never a crashed engine; cancel kills the processes. The processes
// end with the engine (they stop when their IPC channel closes), so reattach() only recognises this
// instance's own tasks. The queue and results are local-queue.ts's.
import type { EvaluationOutcome } from '../search/protocol.ts';
import type { DeviceInfo, EvaluationTask, ExecutorCapabilities } from './executor.ts';
import { LocalQueueExecutor, type LocalRun } from './local-queue.ts';

/** One evaluation running in a process of its own. */
export interface RunningEvaluation {
  readonly pid: number | undefined;
  /** Every ending is an outcome; a rejection is turned into a failed one. */
  readonly outcome: Promise<EvaluationOutcome>;
  /** Kills the process. */
  cancel(): void;
}

/** Starts the process that evaluates one task. */
export type EvaluationLauncher = (task: EvaluationTask) => RunningEvaluation | Promise<RunningEvaluation>;

export interface WorkerPoolOptions {
  /** Processes at once (>= 1). */
  slots: number;
  /** What capabilities() reports as the devices; by default this machine's CPU. */
  devices?: DeviceInfo[];
}

interface PoolRun extends LocalRun {
  /** Set once the launcher has answered. */
  evaluation: RunningEvaluation | null;
  cancelled: boolean;
}

export class WorkerPoolExecutor extends LocalQueueExecutor<PoolRun> {
  constructor(
    private readonly launch: EvaluationLauncher,
    private readonly options: WorkerPoolOptions,
  ) {
    super('worker-pool', options.slots);
  }

  override async capabilities(): Promise<ExecutorCapabilities> {
    return {
      kind: 'worker-pool',
      slots: this.slots,
      devices: this.options.devices ?? [{ id: 'cpu', description: 'this machine, one process per slot' }],
      canReattach: false,
    };
  }

  /** Pids of the processes evaluating now, by candidate id (for a progress display or a test). */
  processes(): Record<string, number | undefined> {
    return Object.fromEntries([...this.running].map(([id, r]) => [id, r.evaluation?.pid]));
  }

  protected override newRun(task: EvaluationTask, started: number): PoolRun {
    return { task, started, evaluation: null, cancelled: false };
  }

  protected override async evaluate(run: PoolRun): Promise<EvaluationOutcome> {
    const evaluation = await this.launch(run.task);
    run.evaluation = evaluation;
    // Cancelled while the process was starting: it is killed as soon as it exists.
    if (run.cancelled) evaluation.cancel();
    return evaluation.outcome;
  }

  protected override stop(run: PoolRun): void {
    run.cancelled = true;
    run.evaluation?.cancel();
  }
}
