// Runs in: the engine. Searches that run on inside the engine while clients come and go: started or resumed
// through the API, paused or cancelled on request, and reported through events. The search itself is
// core/service/search.ts; this keeps track of which runs this engine is driving and what became of them,
// including runs whose engine died (their run.lock names a process that is gone: interrupted, resumable).
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, rmdirSync, statSync, writeFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { basename, isAbsolute, join } from 'node:path';
import { EmonasError, fileSystemError, toErrorData, type ErrorData } from '../base/errors.ts';
import type { EventName, EventPayload } from '../api/events.ts';
import type { EpochPoint, FrontCandidate, RunProgress, RunState, RunSummary } from '../api/runs.ts';
import { clearBudgetStop } from '../runs/budget-stop.ts';
import { clearRunFailure, readEarlyFailure, writeRunFailure, type StartedRun } from '../runs/run-failure.ts';
import { RUN_FILES } from '../runs/run-folder.ts';
import { lockHolder } from '../runs/run-lock.ts';
import { candidateCurves, planFromConfig, runProgress } from '../runs/run-progress.ts';
import {
  earlyFailureSummary,
  front,
  listRunsAndEarlyFailures,
  readRunSummary,
  type RunSummary as SearchRunSummary,
} from '../runs/run-summary.ts';
import type { StudyEvent } from '../runs/study.ts';
import { resolveSearchConfig, type SearchConfig } from '../search/config.ts';
import type { WorkerLauncher } from './search-estimate.ts';
import { parseProblem, resume, startSearch, type SearchDeps, type SearchSummary } from './search.ts';

/**
 * A dataset folder given to search.start: a full path to an existing folder, checked before the run is
 * answered as started, so a mistake is an error now rather than a failed run later.
 */
function requireDatasetFolder(dataset: unknown): void {
  if (typeof dataset !== 'string' || dataset === '') return;
  if (!isAbsolute(dataset)) {
    throw new EmonasError(
      'bad_request',
      `The dataset folder '${dataset}' is not a full path; give it from the top, e.g. /data/Task04_Hippocampus.`,
      { file: dataset },
    );
  }
  let isFolder: boolean;
  try {
    isFolder = statSync(dataset).isDirectory();
  } catch (err) {
    throw fileSystemError(err) ?? err;
  }
  if (!isFolder) {
    throw new EmonasError('bad_request', `The dataset ${dataset} is a file, not a folder; give its folder.`, {
      file: dataset,
    });
  }
}

/** A run whose run.lock names another live process (`emonas resume` in a terminal, say). */
function drivenElsewhere(summary: RunSummary): EmonasError {
  return new EmonasError(
    'conflict',
    `Run '${summary.runId}' is being driven by another process (its run.lock names it); stop that one first.`,
    { file: join(summary.runDir, RUN_FILES.lock) },
  );
}

type Emit = <E extends EventName>(event: E, payload: EventPayload<E>) => void;

interface Job {
  controller: AbortController;
  done: Promise<void>;
  /** Until the run folder exists (a dataset search prepares its cases first): what start answered. */
  pending?: { summary: RunSummary; config: SearchConfig; workers: number; dataset: string | null };
  /** The latest preparation step of a dataset search, shown while its cases are read and preprocessed. */
  preparing: RunProgress['preparing'];
}

export class SearchJobs {
  private readonly jobs = new Map<string, Job>();
  /** Runs whose last drive in this engine ended in an error, with it (also kept in <run>/failed.json). */
  private readonly failures = new Map<string, ErrorData>();
  /**
   * Runs that failed before their run.json was written: what start answered, so they stay listed (also kept
   * in <run>/failed.json for the engines after this one; this copy serves when that could not be written).
   */
  private readonly failedBeforeFolder = new Map<string, RunSummary>();

  constructor(
    readonly runsRoot: string,
    private readonly emit: Emit,
    private readonly log: (message: string) => void,
    private readonly options: { launchWorker?: WorkerLauncher } = {},
  ) {}

  /** The runs on disk, oldest first, then those still preparing their data (no folder yet). */
  list(): RunSummary[] {
    const runs = this.onDisk();
    const listed = new Set(runs.map((r) => r.runId));
    for (const [runId, job] of this.jobs) {
      if (job.pending && !listed.has(runId)) runs.push({ ...job.pending.summary });
    }
    for (const [runId, summary] of this.failedBeforeFolder) {
      if (!listed.has(runId)) runs.push({ ...summary });
    }
    return runs;
  }

  private onDisk(): RunSummary[] {
    mkdirSync(this.runsRoot, { recursive: true });
    return listRunsAndEarlyFailures(this.runsRoot).map((r) =>
      this.toSummary(r.runDir.slice(this.runsRoot.length + 1), r),
    );
  }

  private toSummary(runId: string, r: SearchRunSummary): RunSummary {
    // An earlier engine's failure of the run is read from its folder.
    const reason = this.jobs.has(runId) ? null : (this.failures.get(runId)?.message ?? r.failure);
    const state = this.stateOf(runId, r, reason !== null);
    return {
      runId,
      runDir: r.runDir,
      createdAt: r.createdAt,
      algorithm: r.algorithm,
      problem: r.problem,
      evaluated: r.evaluated,
      failed: r.failed,
      state,
      lastActivity: r.lastActivity,
      ...(reason !== null && { reason }),
      ...(state === 'stopped-at-budget' && r.stoppedAtBudget && { stoppedAtBudget: r.stoppedAtBudget }),
    };
  }

  /** The run's summary, read from its folder alone (not every run's), or what start answered until it has one. */
  private summaryOf(runId: string): { summary: RunSummary; onDisk: boolean } {
    // Only a folder directly in the runs folder is a run of this engine.
    const runDir =
      runId === basename(runId) && runId !== '.' && runId !== '..' ? join(this.runsRoot, runId) : null;
    if (runDir && existsSync(join(runDir, RUN_FILES.manifest))) {
      return { summary: this.toSummary(runId, readRunSummary(runDir)), onDisk: true };
    }
    const job = this.jobs.get(runId);
    if (job?.pending) {
      const state = job.controller.signal.aborted ? 'stopping' : 'running';
      return { summary: { ...job.pending.summary, state }, onDisk: false };
    }
    const early = runDir ? readEarlyFailure(runDir) : null;
    if (early) return { summary: this.toSummary(runId, earlyFailureSummary(early)), onDisk: false };
    const failed = this.failedBeforeFolder.get(runId);
    if (failed) return { summary: { ...failed }, onDisk: false };
    throw new EmonasError(
      'not_found',
      `There is no run '${runId}' in ${this.runsRoot}; see the list of runs.`,
    );
  }

  get(runId: string): { summary: RunSummary; front: FrontCandidate[] } {
    const { summary, onDisk } = this.summaryOf(runId);
    return { summary, front: onDisk ? front({ runDir: summary.runDir }) : [] };
  }

  /** Checks the configuration and problem at once, so a mistake is answered, not reported later. */
  start(request: {
    config?: Record<string, unknown> | undefined;
    problem?: Record<string, unknown> | undefined;
    workers?: number | undefined;
  }): RunSummary {
    const config = resolveSearchConfig(request.config ?? {});
    if (request.problem?.kind === 'dataset') requireDatasetFolder(request.problem.dataset);
    const problem = parseProblem(request.problem ?? {}, config);
    const workers = request.workers ?? 1;
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
    this.drive(
      runId,
      (deps) => startSearch({ runDir, config: request.config ?? {}, problem, workers }, deps),
      { summary, config, workers, dataset: problem.kind === 'dataset' ? problem.dataset : null },
    );
    return summary;
  }

  resume(runId: string): RunSummary {
    const { summary, onDisk } = this.summaryOf(runId);
    if (!onDisk && summary.state === 'failed') {
      throw new EmonasError(
        'conflict',
        `Run '${runId}' failed before it began (${summary.reason ?? 'no reason kept'}); there is nothing to resume, start a new search.`,
      );
    }
    if (this.jobs.has(runId)) {
      throw new EmonasError('conflict', `Run '${runId}' is already running in this engine.`);
    }
    if (summary.state === 'running') throw drivenElsewhere(summary);
    if (summary.state === 'finished') {
      throw new EmonasError('conflict', `Run '${runId}' has finished; there is nothing left to resume.`);
    }
    if (summary.state === 'cancelled') {
      throw new EmonasError(
        'conflict',
        `Run '${runId}' was cancelled, so it cannot be resumed; start a new search instead.`,
      );
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
    return this.summaryOf(runId).summary;
  }

  /** Stops a run for good; a running one is stopped first (what it evaluated stays in the run). */
  async cancel(runId: string): Promise<RunSummary> {
    const { summary } = this.summaryOf(runId);
    if (summary.state === 'finished' || summary.state === 'cancelled') {
      throw new EmonasError('conflict', `Run '${runId}' has ${summary.state}; there is nothing to cancel.`);
    }
    const job = this.jobs.get(runId);
    // Cancelled under a live driver, the run would be listed as cancelled while that process trains on.
    if (!job && summary.state === 'running') throw drivenElsewhere(summary);
    if (job) {
      job.controller.abort();
      await job.done;
    }
    // A search cancelled before its folder was written leaves nothing to keep, nor does one that failed then.
    if (!existsSync(join(summary.runDir, RUN_FILES.manifest))) {
      this.failedBeforeFolder.delete(runId);
      clearRunFailure(summary.runDir);
      removeIfEmpty(summary.runDir);
      return { ...summary, state: 'cancelled' };
    }
    writeFileSync(
      join(summary.runDir, RUN_FILES.cancelled),
      JSON.stringify({ cancelledAt: new Date().toISOString() }) + '\n',
    );
    // Cancelled is never resumed: a budget stop must not go on offering `emonas resume` (emonas runs).
    clearBudgetStop(summary.runDir);
    return this.summaryOf(runId).summary;
  }

  progress(runId: string): RunProgress {
    const { summary } = this.summaryOf(runId);
    const job = this.jobs.get(runId);
    if (job?.pending && !existsSync(join(summary.runDir, 'run.json'))) {
      const { config, workers, dataset } = job.pending;
      return {
        summary,
        plan: planFromConfig(config, workers, dataset),
        generations: [],
        candidates: [],
        meanCandidateSeconds: null,
        preparing: job.preparing,
      };
    }
    return { ...runProgress(summary, job !== undefined), preparing: job?.preparing ?? null };
  }

  curves(runId: string, candidateId: string): EpochPoint[] {
    return candidateCurves(this.summaryOf(runId).summary.runDir, candidateId);
  }

  /** Pauses every running search and waits until each has written its journal. */
  async close(): Promise<void> {
    const running = [...this.jobs.values()];
    for (const job of running) job.controller.abort();
    await Promise.all(running.map((job) => job.done));
  }

  private stateOf(runId: string, r: SearchRunSummary, failed: boolean): RunState {
    const job = this.jobs.get(runId);
    if (job) return job.controller.signal.aborted ? 'stopping' : 'running';
    if (r.finished) return 'finished';
    if (r.cancelled) return 'cancelled';
    if (failed) return 'failed';
    const holder = lockHolder(r.runDir);
    if (holder === 'dead') return 'interrupted';
    // Another live process (e.g. `emonas resume` in a terminal) drives it.
    if (holder === 'alive') return 'running';
    // Nobody paused a search its budget ended (the demo's): it says so, and stays resumable.
    return r.stoppedAtBudget ? 'stopped-at-budget' : 'paused';
  }

  private drive(
    runId: string,
    run: (deps: SearchDeps) => Promise<SearchSummary>,
    pending?: Job['pending'],
  ): void {
    const controller = new AbortController();
    const onEvent = (event: StudyEvent) => {
      if (event.type === 'candidate.started') job.preparing = null;
      this.relay(runId, event);
    };
    const job: Job = { controller, done: Promise.resolve(), preparing: null, ...(pending && { pending }) };
    const deps: SearchDeps = {
      signal: controller.signal,
      onEvent,
      onProgress: (progress) => {
        if (progress.type === 'preparing') {
          const { stage, done, total } = progress;
          job.preparing = { stage, done, total };
        } else if (progress.type === 'training' && progress.event.type === 'started') {
          job.preparing = null;
        }
      },
      ...(this.options.launchWorker && { spawnWorker: this.options.launchWorker }),
    };
    job.done = run(deps).then(
      (outcome) => {
        this.jobs.delete(runId);
        const { summary } = this.summaryOf(runId);
        if (outcome.status === 'finished') this.emit('run.finished', { run: summary });
        else this.emit('run.paused', { run: summary });
      },
      async (err: unknown) => {
        this.jobs.delete(runId);
        const error = toErrorData(err);
        this.failures.set(runId, error);
        if (!(err instanceof EmonasError) && !fileSystemError(err))
          this.log(`emonas engine: run ${runId} failed: ${(err as Error).stack ?? String(err)}`);
        const run = this.summaryAfterFailure(runId, job.pending?.summary, error);
        if (!existsSync(join(run.runDir, RUN_FILES.manifest))) {
          this.failedBeforeFolder.set(runId, run);
          // Only a start has what to keep: a resume whose run.json went missing keeps its folder as it is.
          const started = job.pending?.summary;
          if (started) {
            const { createdAt, algorithm, problem } = started;
            await this.keepFailure(runId, run.runDir, error, { createdAt, algorithm, problem });
          }
        } else {
          await this.keepFailure(runId, run.runDir, error);
        }
        this.emit('run.failed', { run, error });
      },
    );
    this.jobs.set(runId, job);
  }

  /** So the run stays listed as failed, with its reason, after this engine has gone. */
  private async keepFailure(
    runId: string,
    runDir: string,
    error: ErrorData,
    started?: StartedRun,
  ): Promise<void> {
    try {
      if (started) await mkdir(runDir, { recursive: true });
      await writeRunFailure(runDir, error, started);
    } catch (err) {
      this.log(`emonas engine: the failure of run ${runId} could not be kept: ${toErrorData(err).message}`);
    }
  }

  /** The run's summary, or what start answered when it failed before its folder was written. */
  private summaryAfterFailure(runId: string, started: RunSummary | undefined, error: ErrorData): RunSummary {
    const runDir = join(this.runsRoot, runId);
    if (existsSync(join(runDir, RUN_FILES.manifest))) {
      try {
        return this.summaryOf(runId).summary;
      } catch {
        // A run.json that cannot be read: what start answered is all there is to say.
      }
    }
    const { createdAt = '', algorithm = '', problem = '' } = started ?? {};
    return this.toSummary(
      runId,
      earlyFailureSummary({ runDir, started: { createdAt, algorithm, problem }, message: error.message }),
    );
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

/** Removes an empty folder; one that holds anything (or is gone) is left as it is. */
function removeIfEmpty(dir: string): void {
  try {
    rmdirSync(dir);
  } catch {
    // Not empty, or not there: nothing of the user's is removed.
  }
}

/** Sortable by start time, and unique: run-20250131-142501-7f3a9c. */
function newRunId(): string {
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  return `run-${stamp}-${randomBytes(3).toString('hex')}`;
}
