// Runs in: the engine (or a test). An executor that runs an evaluator function in this process, up to
// `slots` evaluations at a time: for the formula problem, demos and tests. The queue, results and
// reattach (its own tasks only: they cannot outlive the process) are local-queue.ts's.
import type { EvaluationOutcome } from '../search/protocol.ts';
import type { EvaluationTask, ExecutorCapabilities } from './executor.ts';
import { cancelledOutcome } from './finished-results.ts';
import { LocalQueueExecutor, type LocalRun } from './local-queue.ts';

export type InProcessEvaluator = (
  task: EvaluationTask,
  signal: AbortSignal,
) => EvaluationOutcome | Promise<EvaluationOutcome>;

interface InProcessRun extends LocalRun {
  readonly controller: AbortController;
}

export class InProcessExecutor extends LocalQueueExecutor<InProcessRun> {
  constructor(
    private readonly evaluator: InProcessEvaluator,
    options: { slots?: number } = {},
  ) {
    super('in-process', options.slots ?? 1);
  }

  override async capabilities(): Promise<ExecutorCapabilities> {
    return {
      kind: 'in-process',
      slots: this.slots,
      devices: [{ id: 'cpu', description: 'this process' }],
      canReattach: false,
    };
  }

  protected override newRun(task: EvaluationTask, started: number): InProcessRun {
    return { task, started, controller: new AbortController() };
  }

  protected override async evaluate(run: InProcessRun): Promise<EvaluationOutcome> {
    // Started a tick later, so that a cancel right after submit stops it before the evaluator runs.
    await Promise.resolve();
    if (run.controller.signal.aborted) return cancelledOutcome();
    return this.evaluator(run.task, run.controller.signal);
  }

  protected override stop(run: InProcessRun): void {
    run.controller.abort();
  }
}
