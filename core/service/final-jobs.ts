// Runs in: the engine. Final trainings (`emonas finalize`) that run on inside the engine while clients come
// and go, like searches (search-jobs.ts): started through the API, paused, resumed or cancelled on request,
// reported through events. What was asked is kept in <run>/final-job.json until the training ends, so one
// whose engine died is listed as interrupted and resumes from its own last epoch (core/train/setup/final.ts).
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { EventName, EventPayload } from '../api/events.ts';
import type { FinalModel, FinalRequest, FinalState } from '../api/finish.ts';
import { EmonasError, fileSystemError, toErrorData } from '../base/errors.ts';
import { readJsonSync, writeFileAtomicSync } from '../io/files.ts';
import { RUN_FILES } from '../runs/run-folder.ts';
import { processExists } from '../base/process-exists.ts';
import { epochLog } from '../runs/run-progress.ts';
import { EPOCH_LOG_FILE } from '../train/epoch-log.ts';
import { finalSettings, runProtocol } from '../train/setup/final.ts';
import type { WorkerLauncher } from './search-estimate.ts';
import { finalize, FINAL_DIR, readFinalSummary } from './search-finalize.ts';

/** The final training in progress of a run: its request, and whether it was paused or failed. */
export const FINAL_JOB_FILE = 'final-job.json';

interface JobFile extends FinalRequest {
  format: 'emonas-final-job-1';
  /** The engine process training it; when that is gone and it was not paused, it was interrupted. */
  pid: number;
  paused: boolean;
  failure: string | null;
}

type Emit = <E extends EventName>(event: E, payload: EventPayload<E>) => void;

interface Job {
  controller: AbortController;
  done: Promise<void>;
  /** Set when the user cancels: the partial training is deleted once the worker has stopped. */
  cancelling: boolean;
}

export class FinalJobs {
  private readonly jobs = new Map<string, Job>();

  constructor(
    private readonly runsRoot: string,
    private readonly emit: Emit,
    private readonly log: (message: string) => void,
    /** The host's training-worker launcher (Electron's utility processes); absent, workers are forked. */
    private readonly launchWorker?: WorkerLauncher,
  ) {}

  /** The run's final training: the model it holds and the training in progress, if any. */
  get(runId: string): FinalModel {
    const runDir = this.runDir(runId);
    const job = readJob(runDir);
    const running = this.jobs.get(runId);
    let state: FinalState;
    if (running) state = running.controller.signal.aborted ? 'stopping' : 'running';
    else if (job?.failure) state = 'failed';
    else if (job?.paused) state = 'paused';
    else if (job) state = drivenElsewhere(job) ? 'running' : 'interrupted';
    else state = readFinalSummary(runDir) ? 'finished' : 'none';
    const training = job !== null || running !== undefined;
    const logDir = join(runDir, training ? `${FINAL_DIR}.partial` : FINAL_DIR);
    return {
      runId,
      state,
      request: job && requestOf(job),
      model: readFinalSummary(runDir),
      curves: epochLog(join(logDir, EPOCH_LOG_FILE)),
      ...(job?.failure && { reason: job.failure }),
    };
  }

  /** Every run that has a final model or a final training in progress, oldest run first. */
  list(): FinalModel[] {
    if (!existsSync(this.runsRoot)) return [];
    return readdirSync(this.runsRoot, { withFileTypes: true })
      .filter((e) => e.isDirectory() && existsSync(join(this.runsRoot, e.name, RUN_FILES.manifest)))
      .map((e) => e.name)
      .sort()
      .map((runId) => this.get(runId))
      .filter((f) => f.state !== 'none');
  }

  /** Checks the settings at once, so a mistake is answered, not reported later. */
  start(runId: string, request: Partial<FinalRequest>): FinalModel {
    const runDir = this.runDir(runId);
    this.refuseRunning(runId);
    const job = readJob(runDir);
    if (job && !job.failure) {
      throw new EmonasError(
        'conflict',
        `Run '${runId}' has a ${job.paused ? 'paused' : 'interrupted'} final training; resume or cancel it first.`,
        { file: join(runDir, FINAL_JOB_FILE) },
      );
    }
    const settings = finalSettings(request, runProtocol(runDir));
    this.drive(runId, runDir, {
      format: 'emonas-final-job-1',
      pid: process.pid,
      candidate: request.candidate ?? null,
      ...settings,
      paused: false,
      failure: null,
    });
    return this.get(runId);
  }

  /** Continues a paused, interrupted or failed final training from its last completed epoch. */
  resume(runId: string): FinalModel {
    const runDir = this.runDir(runId);
    this.refuseRunning(runId);
    const job = readJob(runDir);
    if (!job) {
      throw new EmonasError('conflict', `Run '${runId}' has no final training to resume; start one instead.`);
    }
    if (!job.paused && !job.failure && drivenElsewhere(job)) {
      throw new EmonasError(
        'conflict',
        `Run '${runId}''s final training is being driven by another engine (process ${job.pid}); stop that one first.`,
        { file: join(runDir, FINAL_JOB_FILE) },
      );
    }
    this.drive(runId, runDir, { ...job, pid: process.pid, paused: false, failure: null });
    return this.get(runId);
  }

  pause(runId: string): FinalModel {
    const job = this.jobs.get(runId);
    if (!job) {
      throw new EmonasError(
        'conflict',
        `Run '${runId}' has no final training running in this engine, so it cannot be paused.`,
      );
    }
    job.controller.abort();
    return this.get(runId);
  }

  /** Stops the final training for good and deletes what it trained; the run's final model stays. */
  async cancel(runId: string): Promise<FinalModel> {
    const runDir = this.runDir(runId);
    const job = this.jobs.get(runId);
    if (!job && !readJob(runDir)) {
      throw new EmonasError('conflict', `Run '${runId}' has no final training to cancel.`);
    }
    if (job) {
      job.cancelling = true;
      job.controller.abort();
      await job.done;
    }
    rmSync(join(runDir, `${FINAL_DIR}.partial`), { recursive: true, force: true });
    rmSync(join(runDir, FINAL_JOB_FILE), { force: true });
    const final = this.get(runId);
    this.emit('final.ended', { final });
    return final;
  }

  /** Pauses every running final training and waits until each has stopped. */
  async close(): Promise<void> {
    const running = [...this.jobs.values()];
    for (const job of running) job.controller.abort();
    await Promise.all(running.map((job) => job.done));
  }

  private runDir(runId: string): string {
    const runDir = join(this.runsRoot, runId);
    if (!existsSync(join(runDir, RUN_FILES.manifest))) {
      throw new EmonasError(
        'not_found',
        `There is no run '${runId}' in ${this.runsRoot}; see the list of runs.`,
      );
    }
    return runDir;
  }

  private refuseRunning(runId: string): void {
    if (this.jobs.has(runId)) {
      throw new EmonasError('conflict', `Run '${runId}' is already training its final model in this engine.`);
    }
  }

  private drive(runId: string, runDir: string, file: JobFile): void {
    writeJob(runDir, file);
    const controller = new AbortController();
    const job: Job = { controller, done: Promise.resolve(), cancelling: false };
    const epochs = file.epochs;
    job.done = finalize(
      { runDir, ...requestOf(file), candidate: file.candidate ?? undefined },
      {
        signal: controller.signal,
        ...(this.launchWorker && { spawnWorker: this.launchWorker }),
        onPreparing: (done, total) => this.emit('final.preprocessed', { runId, done, total }),
        onEvent: (event) => {
          if (event.type !== 'epoch') return;
          const { epoch, trainLoss, valLoss, valDice } = event.record;
          this.emit('final.progressed', {
            runId,
            point: { epoch, trainLoss, valLoss, valDice },
            epochs,
            etaSeconds: event.etaSeconds,
          });
        },
      },
    ).then(
      () => {
        this.jobs.delete(runId);
        rmSync(join(runDir, FINAL_JOB_FILE), { force: true });
        this.emit('final.ended', { final: this.get(runId) });
      },
      (err: unknown) => {
        this.jobs.delete(runId);
        if (job.cancelling) return;
        const error = toErrorData(err);
        const stopped = controller.signal.aborted && error.code === 'cancelled';
        if (!stopped && !(err instanceof EmonasError) && !fileSystemError(err)) {
          this.log(
            `emonas engine: final training of ${runId} failed: ${(err as Error).stack ?? String(err)}`,
          );
        }
        writeJob(runDir, { ...file, paused: stopped, failure: stopped ? null : error.message });
        this.emit('final.ended', { final: this.get(runId) });
      },
    );
    this.jobs.set(runId, job);
    this.emit('final.started', { final: this.get(runId) });
  }
}

/** Another live process (another engine on the same data folder) trains it; never this one's own pid. */
function drivenElsewhere(job: JobFile): boolean {
  return typeof job.pid === 'number' && job.pid > 0 && job.pid !== process.pid && processExists(job.pid);
}

function requestOf(job: JobFile): FinalRequest {
  const { candidate, epochs, stepsPerEpoch, maxMinutes, fresh, protocol } = job;
  return { candidate, epochs, stepsPerEpoch, maxMinutes, fresh, ...(protocol && { protocol }) };
}

function readJob(runDir: string): JobFile | null {
  const job = readJsonSync(join(runDir, FINAL_JOB_FILE)) as JobFile | undefined;
  return job?.format === 'emonas-final-job-1' ? job : null;
}

function writeJob(runDir: string, job: JobFile): void {
  writeFileAtomicSync(join(runDir, FINAL_JOB_FILE), JSON.stringify(job, null, 2) + '\n');
}
