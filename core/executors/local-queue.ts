// Runs in: the engine (or a test). The queue the two local executors share (in-process, worker pool): up
// to `slots` tasks run at once in the order submitted, the rest wait; a task whose evaluation throws is a
// failed outcome; a cancelled one is reported at once and its late outcome ignored. The tasks cannot
// outlive this process, so reattach() only recognises this instance's own. A subclass says only how a
// task is started and stopped.
import { EmonasError, toErrorData } from '../base/errors.ts';
import type { EvaluationOutcome } from '../search/protocol.ts';
import type {
  EvaluationTask,
  Executor,
  ExecutorCapabilities,
  TaskHandle,
  TaskResult,
  TaskState,
} from './executor.ts';
import { FinishedResults, cancelledOutcome } from './finished-results.ts';

/** A task taken from the queue; a subclass adds what it needs to stop the task. */
export interface LocalRun {
  readonly task: EvaluationTask;
  /** performance.now() when it left the queue. */
  readonly started: number;
}

let instances = 0;

export abstract class LocalQueueExecutor<R extends LocalRun> implements Executor {
  protected readonly slots: number;
  protected readonly running = new Map<string, R>();
  private readonly instance = `${process.pid}.${++instances}`;
  private readonly queued: EvaluationTask[] = [];
  private readonly finished = new FinishedResults();
  private closed = false;

  constructor(
    private readonly kind: string,
    slots: number,
  ) {
    this.slots = Math.max(1, Math.floor(slots));
  }

  abstract capabilities(): Promise<ExecutorCapabilities>;

  /** The record of a task leaving the queue; the task starts with evaluate(). */
  protected abstract newRun(task: EvaluationTask, started: number): R;

  /** Evaluates the task; a rejection becomes a failed outcome. */
  protected abstract evaluate(run: R): Promise<EvaluationOutcome>;

  /** Stops a running task (cancel or close); what evaluate() then yields is ignored. */
  protected abstract stop(run: R): void;

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
    return tasks.map((t) => ({ id: t.id, executor: this.kind, ref: `${this.instance}:${t.id}` }));
  }

  async poll(): Promise<{ id: string; state: TaskState }[]> {
    return [
      ...this.queued.map((t) => ({ id: t.id, state: 'queued' as const })),
      ...[...this.running.keys()].map((id) => ({ id, state: 'running' as const })),
      ...this.finished.states(),
    ];
  }

  async collect(): Promise<TaskResult[]> {
    return this.finished.collect();
  }

  waitForResults(timeoutMs: number): Promise<void> {
    return this.finished.wait(timeoutMs);
  }

  async cancel(ids: string[]): Promise<void> {
    for (const id of ids) {
      const queuedAt = this.queued.findIndex((t) => t.id === id);
      if (queuedAt >= 0) {
        this.queued.splice(queuedAt, 1);
        this.finished.add({ id, outcome: cancelledOutcome() });
      }
      const run = this.running.get(id);
      if (run) {
        this.running.delete(id);
        this.stop(run);
        this.finished.add({ id, outcome: cancelledOutcome(), seconds: secondsSince(run.started) });
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

  private pendingIds(): string[] {
    return [...this.queued.map((t) => t.id), ...this.running.keys(), ...this.finished.ids()];
  }

  private pump(): void {
    while (!this.closed && this.running.size < this.slots && this.queued.length > 0) {
      const task = this.queued.shift() as EvaluationTask;
      const run = this.newRun(task, performance.now());
      this.running.set(task.id, run);
      void this.settle(run);
    }
  }

  private async settle(run: R): Promise<void> {
    let outcome: EvaluationOutcome;
    try {
      outcome = await this.evaluate(run);
    } catch (err) {
      const data = toErrorData(err);
      outcome = { status: 'failed', code: data.code, reason: data.message };
    }
    // Cancelled meanwhile: cancel() has reported it already.
    if (this.running.get(run.task.id) !== run) return;
    this.running.delete(run.task.id);
    this.finished.add({ id: run.task.id, outcome, seconds: secondsSince(run.started) });
    this.pump();
  }
}

function secondsSince(started: number): number {
  return (performance.now() - started) / 1000;
}
