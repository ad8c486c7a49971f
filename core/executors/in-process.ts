// Runs in: the engine (or a test). An executor that runs an evaluator function in this process, up to
// `slots` evaluations at a time: for the formula problem, demos and tests. It cannot outlive the process,
// so reattach() only recognises its own tasks.
import { EmonasError, toErrorData } from '../base/errors.ts';
import type { EvaluationOutcome } from '../search/protocol.ts';
import {
  CANCELLED,
  type EvaluationTask,
  type Executor,
  type ExecutorCapabilities,
  type TaskHandle,
  type TaskResult,
  type TaskState,
} from './executor.ts';

export type InProcessEvaluator = (
  task: EvaluationTask,
  signal: AbortSignal,
) => EvaluationOutcome | Promise<EvaluationOutcome>;

let instances = 0;

export class InProcessExecutor implements Executor {
  private readonly slots: number;
  private readonly instance = `${process.pid}.${++instances}`;
  private readonly queued: EvaluationTask[] = [];
  private readonly running = new Map<string, AbortController>();
  private readonly finished: TaskResult[] = [];
  private readonly waiters = new Set<() => void>();
  private closed = false;

  constructor(
    private readonly evaluate: InProcessEvaluator,
    options: { slots?: number } = {},
  ) {
    this.slots = Math.max(1, Math.floor(options.slots ?? 1));
  }

  async capabilities(): Promise<ExecutorCapabilities> {
    return {
      kind: 'in-process',
      slots: this.slots,
      devices: [{ id: 'cpu', description: 'this process' }],
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
    return tasks.map((t) => ({ id: t.id, executor: 'in-process', ref: `${this.instance}:${t.id}` }));
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
      const controller = this.running.get(id);
      if (controller) {
        this.running.delete(id);
        controller.abort();
        this.finish({ id, outcome: cancelled() });
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
    return [...this.queued.map((t) => t.id), ...this.running.keys(), ...this.finished.map((r) => r.id)];
  }

  private pump(): void {
    while (this.running.size < this.slots && this.queued.length > 0) {
      const task = this.queued.shift() as EvaluationTask;
      const controller = new AbortController();
      this.running.set(task.id, controller);
      const started = performance.now();
      void Promise.resolve()
        .then(() => {
          // Cancelled before it started: the evaluator never runs.
          if (controller.signal.aborted) return cancelled();
          return this.evaluate(task, controller.signal);
        })
        .then(
          (outcome) => outcome,
          (err: unknown): EvaluationOutcome => {
            const data = toErrorData(err);
            return { status: 'failed', code: data.code, reason: data.message };
          },
        )
        .then((outcome) => {
          if (this.running.get(task.id) !== controller) return;
          this.running.delete(task.id);
          this.finish({ id: task.id, outcome, seconds: (performance.now() - started) / 1000 });
          this.pump();
        });
    }
  }

  private finish(result: TaskResult): void {
    this.finished.push(result);
    for (const wake of [...this.waiters]) wake();
  }
}

function cancelled(): EvaluationOutcome {
  return { status: 'failed', code: CANCELLED, reason: 'The evaluation was cancelled before it finished.' };
}
