// Runs in: the engine. Searches that run on inside the engine while clients come and go: started or resumed
// through the API, paused on request, and reported through events. The search itself is core/service/
// search.ts; this keeps track of which runs this engine is driving and what became of them.
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { EmonasError, toErrorData, type ErrorData } from '../base/errors.ts';
import type { EventName, EventPayload } from '../api/events.ts';
import type { FrontCandidate, RunState, RunSummary } from '../api/runs.ts';
import type { StudyEvent } from '../runs/study.ts';
import { resolveSearchConfig } from '../search/config.ts';
import { front, listRuns, parseFormulaProblem, resume, startSearch, type SearchSummary } from './search.ts';

type Emit = <E extends EventName>(event: E, payload: EventPayload<E>) => void;

interface Job {
  controller: AbortController;
  done: Promise<void>;
}

export class SearchJobs {
  private readonly jobs = new Map<string, Job>();
  /** Runs whose last drive in this engine ended in an error, with it. */
  private readonly failures = new Map<string, ErrorData>();

  constructor(
    readonly runsRoot: string,
    private readonly emit: Emit,
    private readonly log: (message: string) => void,
  ) {}

  list(): RunSummary[] {
    mkdirSync(this.runsRoot, { recursive: true });
    return listRuns({ root: this.runsRoot }).map((r) => {
      const runId = r.runDir.slice(this.runsRoot.length + 1);
      return {
        runId,
        runDir: r.runDir,
        createdAt: r.createdAt,
        algorithm: r.algorithm,
        problem: r.problem,
        evaluated: r.evaluated,
        failed: r.failed,
        state: this.stateOf(runId, r.finished),
        lastActivity: r.lastActivity,
      };
    });
  }

  get(runId: string): { summary: RunSummary; front: FrontCandidate[] } {
    const summary = this.list().find((r) => r.runId === runId);
    if (!summary) {
      throw new EmonasError(
        'not_found',
        `There is no run '${runId}' in ${this.runsRoot}; see the list of runs.`,
      );
    }
    return { summary, front: front({ runDir: summary.runDir }) };
  }

  /** Checks the configuration and problem at once, so a mistake is answered, not reported later. */
  start(request: { config?: Record<string, unknown>; problem?: Record<string, unknown> }): RunSummary {
    const config = resolveSearchConfig(request.config ?? {});
    const problem = parseFormulaProblem(request.problem ?? {});
    mkdirSync(this.runsRoot, { recursive: true });
    const runId = newRunId();
    const runDir = join(this.runsRoot, runId);
    const summary: RunSummary = {
      runId,
      runDir,
      createdAt: new Date().toISOString(),
      algorithm: config.algorithm,
      problem: problem.kind,
      evaluated: 0,
      failed: 0,
      state: 'running',
      lastActivity: null,
    };
    this.emit('run.started', { run: summary });
    this.drive(runId, (deps) =>
      startSearch({ runDir, config: request.config ?? {}, problem: request.problem ?? {} }, deps),
    );
    return summary;
  }

  resume(runId: string): RunSummary {
    const { summary } = this.get(runId);
    if (this.jobs.has(runId)) {
      throw new EmonasError('conflict', `Run '${runId}' is already running in this engine.`);
    }
    if (summary.state === 'finished') {
      throw new EmonasError('conflict', `Run '${runId}' has finished; there is nothing left to resume.`);
    }
    this.failures.delete(runId);
    const running = { ...summary, state: 'running' as const };
    this.emit('run.started', { run: running });
    this.drive(runId, (deps) => resume({ runDir: summary.runDir }, deps));
    return running;
  }

  pause(runId: string): RunSummary {
    const job = this.jobs.get(runId);
    if (!job)
      throw new EmonasError(
        'conflict',
        `Run '${runId}' is not running in this engine, so it cannot be paused.`,
      );
    job.controller.abort();
    return this.get(runId).summary;
  }

  /** Pauses every running search and waits until each has written its journal. */
  async close(): Promise<void> {
    const running = [...this.jobs.values()];
    for (const job of running) job.controller.abort();
    await Promise.all(running.map((job) => job.done));
  }

  private stateOf(runId: string, finished: boolean): RunState {
    const job = this.jobs.get(runId);
    if (job) return job.controller.signal.aborted ? 'stopping' : 'running';
    if (finished) return 'finished';
    return this.failures.has(runId) ? 'failed' : 'paused';
  }

  private drive(
    runId: string,
    run: (deps: { signal: AbortSignal; onEvent: (event: StudyEvent) => void }) => Promise<SearchSummary>,
  ): void {
    const controller = new AbortController();
    const onEvent = (event: StudyEvent) => this.relay(runId, event);
    const done = run({ signal: controller.signal, onEvent }).then(
      (outcome) => {
        this.jobs.delete(runId);
        const { summary } = this.get(runId);
        if (outcome.status === 'finished') this.emit('run.finished', { run: summary });
        else this.emit('run.paused', { run: summary });
      },
      (err: unknown) => {
        this.jobs.delete(runId);
        const error = toErrorData(err);
        this.failures.set(runId, error);
        if (!(err instanceof EmonasError))
          this.log(`emonas engine: run ${runId} failed: ${(err as Error).stack ?? String(err)}`);
        this.emit('run.failed', { run: this.summaryAfterFailure(runId), error });
      },
    );
    this.jobs.set(runId, { controller, done });
  }

  /** The run's summary, or what is known of it when it failed before its folder was written. */
  private summaryAfterFailure(runId: string): RunSummary {
    try {
      return this.get(runId).summary;
    } catch {
      return {
        runId,
        runDir: join(this.runsRoot, runId),
        createdAt: '',
        algorithm: '',
        problem: '',
        evaluated: 0,
        failed: 0,
        state: 'failed',
        lastActivity: null,
      };
    }
  }

  private relay(runId: string, event: StudyEvent): void {
    if (event.type === 'candidate.started') {
      this.emit('candidate.started', { runId, id: event.id, generation: event.generation });
    } else if (event.type === 'candidate.completed') {
      this.emit('candidate.completed', {
        runId,
        id: event.id,
        outcome: event.outcome,
        seconds: event.seconds,
      });
    } else if (event.type === 'generation.completed') {
      this.emit('generation.completed', { runId, record: event.record });
    }
  }
}

/** Sortable by start time, and unique: run-20250131-142501-7f3a9c. */
function newRunId(): string {
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  return `run-${stamp}-${randomBytes(3).toString('hex')}`;
}
