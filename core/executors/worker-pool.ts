// Runs in: the engine. The local worker pool: up to `slots` candidates evaluated at once, each in a
// process of its own started by a launcher (a training worker for a dataset search, a module worker for
// custom evaluators and the contract tests). A process that crashes, runs out of memory or is killed is
// a failed outcome with its reason, never a crashed engine; cancel kills the processes. The processes
// end with the engine (core/base/parent-watch.ts), so reattach() only recognises this instance's own
// tasks; a registry in the run folder lets the next engine end any that have not yet (before it trains
// anything). The queue and results are local-queue.ts's.
import type { EvaluationOutcome } from '../search/protocol.ts';
import type { DeviceInfo, EvaluationTask, ExecutorCapabilities, TaskHandle } from './executor.ts';
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

/**
 * Where the pool records its live processes (core/runs/worker-registry.ts keeps them in the run folder),
 * so that whoever drives the run next can end what an earlier engine left running.
 */
export interface ProcessRegistry {
  /** Ends, or waits for, every recorded process this registry did not start; rejects if one stays. */
  endOthers(): Promise<void>;
  started(candidate: string, pid: number): void;
  ended(candidate: string, pid: number): void;
}

export interface WorkerPoolOptions {
  /** Processes at once (>= 1). */
  slots: number;
  /** What capabilities() reports as the devices; by default this machine's CPU. */
  devices?: DeviceInfo[];
  /** Records each process while it lives; before taking tasks, the pool ends the processes it did not start. */
  registry?: ProcessRegistry;
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

  /** An earlier engine's processes still in the registry are ended first: one writer per candidate folder. */
  override async submit(tasks: EvaluationTask[]): Promise<TaskHandle[]> {
    await this.options.registry?.endOthers();
    return super.submit(tasks);
  }

  protected override newRun(task: EvaluationTask, started: number): PoolRun {
    return { task, started, evaluation: null, cancelled: false };
  }

  protected override async evaluate(run: PoolRun): Promise<EvaluationOutcome> {
    const evaluation = await this.launch(run.task);
    run.evaluation = evaluation;
    // Cancelled while the process was starting: it is killed as soon as it exists.
    if (run.cancelled) evaluation.cancel();
    const { registry } = this.options;
    const pid = evaluation.pid;
    if (registry && pid !== undefined) {
      const id = run.task.id;
      try {
        registry.started(id, pid);
      } catch (err) {
        // An unrecorded process could outlive the run's lock unseen.
        evaluation.cancel();
        throw err;
      }
      const forget = (): void => {
        try {
          registry.ended(id, pid);
        } catch {
          // The entry stays behind; the next owner sees that its process is gone.
        }
      };
      evaluation.outcome.then(forget, forget);
    }
    return evaluation.outcome;
  }

  protected override stop(run: PoolRun): void {
    run.cancelled = true;
    run.evaluation?.cancel();
  }
}
