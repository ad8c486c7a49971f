// Runs in: the engine. The local worker pool: up to `slots` candidates evaluated at once, each in a
// process of its own started by a launcher (a training worker for a dataset search, a module worker for
// custom evaluators and the contract tests). A process that crashes, runs out of memory or is killed is
// a failed outcome with its reason, never a crashed engine; cancel kills the processes. The processes
// end with the engine (they stop when their IPC channel closes), so reattach() only recognises this
// instance's own tasks.
import { EmonasError, toErrorData } from '../base/errors.ts';
import type { EvaluationOutcome } from '../search/protocol.ts';
import {
  CANCELLED,
  type DeviceInfo,
  type EvaluationTask,
  type Executor,
  type ExecutorCapabilities,
  type TaskHandle,
  type TaskResult,
  type TaskState,
} from './executor.ts';

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

interface Running {
  task: EvaluationTask;
  started: number;
  /** Set once the launcher has answered. */
  evaluation: RunningEvaluation | null;
  cancelled: boolean;
}

let instances = 0;

export class WorkerPoolExecutor implements Executor {
  private readonly slots: number;
  private readonly instance = `${process.pid}.${++instances}`;
  private readonly queued: EvaluationTask[] = [];
  private readonly running = new Map<string, Running>();
  private readonly finished: TaskResult[] = [];
  private readonly waiters = new Set<() => void>();
  private closed = false;

  constructor(
    private readonly launch: EvaluationLauncher,
    private readonly options: WorkerPoolOptions,
  ) {
    this.slots = Math.max(1, Math.floor(options.slots));
  }

  async capabilities(): Promise<ExecutorCapabilities> {
    return {
      kind: 'worker-pool',
      slots: this.slots,
      devices: this.options.devices ?? [{ id: 'cpu', description: 'this machine, one process per slot' }],
      canReattach: false,
    };
  }

  async submit(tasks: EvaluationTask[]): Promise<TaskHandle[]> {
    if (this.closed) throw new EmonasError('conflict', 'This executor has been closed; start a new one.');
    const pending = new Set(this.pendingIds());
    for (const task of tasks) {
      if (pending.has(task.id)) {
        throw new EmonasError('conflict', `Candidate ${task.id} is already being evaluated.`);
      }
      pending.add(task.id);
    }
    this.queued.push(...tasks);
    this.pump();
    return tasks.map((t) => ({ id: t.id, executor: 'worker-pool', ref: `${this.instance}:${t.id}` }));
  }

  async poll(): Promise<{ id: string; state: TaskState }[]> {
    return [
      ...this.queued.map((t) => ({ id: t.id, state: 'queued' as const })),
      ...[...this.running.keys()].map((id) => ({ id, state: 'running' as const })),
      ...this.finished.map((r) => ({ id: r.id, state: 'finished' as const })),
    ];
  }

  async collect(): Promise<TaskResult[]> {
    return this.finished.splice(0);
  }

  waitForResults(timeoutMs: number): Promise<void> {
    if (this.finished.length > 0) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.waiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, timeoutMs);
      this.waiters.add(done);
    });
  }

  async cancel(ids: string[]): Promise<void> {
    for (const id of ids) {
      const queuedAt = this.queued.findIndex((t) => t.id === id);
      if (queuedAt >= 0) {
        this.queued.splice(queuedAt, 1);
        this.finish({ id, outcome: cancelled() });
      }
      const run = this.running.get(id);
      if (run) {
        this.running.delete(id);
        run.cancelled = true;
        run.evaluation?.cancel();
        this.finish({ id, outcome: cancelled(), seconds: (performance.now() - run.started) / 1000 });
      }
    }
    this.pump();
  }

  async reattach(handles: TaskHandle[]): Promise<string[]> {
    const pending = new Set(this.pendingIds());
    return handles.filter((h) => h.ref === `${this.instance}:${h.id}` && pending.has(h.id)).map((h) => h.id);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    await this.cancel([...this.queued.map((t) => t.id), ...this.running.keys()]);
    this.closed = true;
  }

  /** Pids of the processes evaluating now, by candidate id (for a progress display or a test). */
  processes(): Record<string, number | undefined> {
    return Object.fromEntries([...this.running].map(([id, r]) => [id, r.evaluation?.pid]));
  }

  private pendingIds(): string[] {
    return [...this.queued.map((t) => t.id), ...this.running.keys(), ...this.finished.map((r) => r.id)];
  }

  private pump(): void {
    while (!this.closed && this.running.size < this.slots && this.queued.length > 0) {
      const task = this.queued.shift() as EvaluationTask;
      const run: Running = { task, started: performance.now(), evaluation: null, cancelled: false };
      this.running.set(task.id, run);
      void this.evaluate(run);
    }
  }

  private async evaluate(run: Running): Promise<void> {
    let outcome: EvaluationOutcome;
    try {
      const evaluation = await this.launch(run.task);
      run.evaluation = evaluation;
      // Cancelled while the process was starting: it is killed as soon as it exists.
      if (run.cancelled) evaluation.cancel();
      outcome = await evaluation.outcome;
    } catch (err) {
      const data = toErrorData(err);
      outcome = { status: 'failed', code: data.code, reason: data.message };
    }
    if (run.cancelled || this.running.get(run.task.id) !== run) return;
    this.running.delete(run.task.id);
    this.finish({ id: run.task.id, outcome, seconds: (performance.now() - run.started) / 1000 });
    this.pump();
  }

  private finish(result: TaskResult): void {
    this.finished.push(result);
    for (const wake of [...this.waiters]) wake();
  }
}

function cancelled(): EvaluationOutcome {
  return { status: 'failed', code: CANCELLED, reason: 'The evaluation was cancelled before it finished.' };
}
