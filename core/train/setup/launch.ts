// Runs in: the engine. Trains a prepared job in a training worker of its own and leaves its folder laid out
// as a model folder (model.json, weights.bin, emonas-model.json, split.json, training-log.csv, result.json,
// worker.log), for `emonas train`, a search's local worker pool and `emonas finalize` alike.
import { join } from 'node:path';
import type { Split } from '../../datasets/pipeline/split.ts';
import { writeFileAtomicSync } from '../../io/files.ts';
import type { Genome } from '../../searchspace/genome.ts';
import type { BackendChoice } from '../backend.ts';
import type { Shape3 } from '../../datasets/pipeline/grid.ts';
import type { CandidateResult, TrainEvent, TrainJob } from '../job.ts';
import type { WorkerHandle } from '../protocol.ts';
import { forkTrainingWorker, trainInWorker } from '../worker-host.ts';
import { SPLIT_FILE } from './prepare.ts';

/** A training's result; timedOut: stopped at the hard limit (its reason says so). */
export type TrainingResult = CandidateResult & { timedOut?: boolean };

/** What result.json in a model folder holds. */
export interface TrainResponse extends TrainingResult {
  genome: Genome;
  patch: Shape3;
  /** Case counts per side; the case ids are in `file`. */
  split: { train: number; val: number; test: number; file: string };
  /** The folder `emonas predict --model` takes. */
  modelDir: string;
}

/** Starts a training worker writing its output to logFile; Electron passes its utilityProcess adapter. */
export type WorkerSpawner = (logFile: string) => WorkerHandle;

/**
 * Detached, so a terminal's Ctrl-C reaches only the engine, which stops the search (or finalize) and kills
 * its workers, instead of every worker dying of the SIGINT and being recorded as a crashed candidate.
 */
export function forkDetachedTrainingWorker(logFile: string): WorkerHandle {
  return forkTrainingWorker(logFile, { detached: true });
}

export interface LaunchOptions {
  onEvent?: (event: TrainEvent) => void;
  onBackend?: (choice: BackendChoice) => void;
  /** By default a forked Node process in the engine's process group (`emonas train`: Ctrl-C stops both). */
  spawnWorker?: WorkerSpawner;
  /** Continue from the checkpoint in the job's folder when it was made for this job. */
  resume?: boolean;
  /**
   * Stop the worker past the time limit plus half of it: the trainer checks its limit between epochs, so a
   * network far too slow for it would otherwise finish its first epoch however long that takes.
   */
  hardLimit?: boolean;
}

export interface RunningTraining {
  pid: number | undefined;
  /** Never rejects for the training's own failures: they are failed results. */
  result: Promise<TrainResponse>;
  cancel(): void;
}

/** Trains the job (prepared by preparedJob, or taken from a checkpoint) and writes result.json after. */
export function startTraining(job: TrainJob, split: Split, options: LaunchOptions = {}): RunningTraining {
  const { spawnWorker } = options;
  const run = trainInWorker(job, {
    ...(spawnWorker && { spawn: () => spawnWorker(join(job.outDir, 'worker.log')) }),
    ...(options.onEvent && { onEvent: options.onEvent }),
    ...(options.onBackend && { onBackend: options.onBackend }),
    resume: options.resume ?? false,
  });
  const hardLimit = options.hardLimit ? hardLimitSeconds(job.settings.maxSeconds) : null;
  let overrun = false;
  const timer =
    hardLimit === null
      ? undefined
      : setTimeout(() => {
          overrun = true;
          run.cancel();
        }, hardLimit * 1000);
  const result = run.result.then((trained) => {
    clearTimeout(timer);
    let r: TrainingResult = trained;
    if (overrun) {
      r = {
        ...r,
        timedOut: true,
        reason: {
          code: 'cancelled',
          message: `The network did not finish ${r.epochsRun === 0 ? 'its first epoch' : 'an epoch'} within ${Math.round(hardLimit as number)} s, the hard limit over the ${Math.round(job.settings.maxSeconds as number)}-second time limit per candidate: it is too slow for this machine and patch.`,
        },
      };
    }
    const response: TrainResponse = {
      ...r,
      genome: job.genome,
      patch: job.settings.patch,
      split: {
        train: split.train.length,
        val: split.val.length,
        test: split.test.length,
        file: join(job.outDir, SPLIT_FILE),
      },
      modelDir: job.outDir,
    };
    writeFileAtomicSync(join(job.outDir, 'result.json'), JSON.stringify(response, null, 2) + '\n');
    return response;
  });
  return { pid: run.pid, result, cancel: () => run.cancel() };
}

/** The time limit plus half of it (at least a minute), or null without a limit. */
export function hardLimitSeconds(maxSeconds: number | null): number | null {
  return maxSeconds === null ? null : maxSeconds + Math.max(60, maxSeconds / 2);
}
