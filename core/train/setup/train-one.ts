// Runs in: the engine. `emonas train`: one candidate trained on a dataset from the set-up (prepare.ts), its
// plan shown before training and its split recorded in the output folder, in a worker process of its own;
// or such a training resumed from its last epoch's checkpoint.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { EmonasError } from '../../base/errors.ts';
import type { TrainingProtocol } from '../../base/training-protocol.ts';
import type { Shape3 } from '../../datasets/pipeline/grid.ts';
import type { PreprocessingPlan } from '../../datasets/pipeline/plan.ts';
import type { Split } from '../../datasets/pipeline/split.ts';
import type { Genome } from '../../searchspace/genome.ts';
import type { BackendChoice } from '../backend.ts';
import { readCheckpoint, TRAINING_CHECKPOINT_FILE } from '../checkpoint.ts';
import type { TrainEvent, TrainJob } from '../job.ts';
import { TRAIN_DEFAULTS } from './defaults.ts';
import { resolveGenome } from './genome-arg.ts';
import { startTraining, type TrainResponse } from './launch.ts';
import { preparedJob, prepareTrainingSetup, SPLIT_FILE } from './prepare.ts';

export interface TrainRequest {
  /** Dataset folder (MSD, ACDC or PROMISE12 as distributed). */
  dataset: string;
  /** Follow symbolic links out of the dataset folder (--allow-links). */
  allowLinks?: boolean;
  /** A built-in name, inline JSON, a JSON file path, or a genome object. */
  genome: string | Genome;
  out: string;
  epochs?: number;
  stepsPerEpoch?: number;
  batchSize?: number;
  patch?: Shape3;
  valFraction?: number;
  testFraction?: number;
  seed?: number;
  /** Seeds the split alone (default: `seed`), so trainings with other seeds can share one split. */
  splitSeed?: number;
  /** Stop cleanly before this many minutes of training (default TRAIN_DEFAULTS.maxMinutes; 0: no limit). */
  maxMinutes?: number;
  /** Where preprocessed cases are cached (default: EMONAS_CACHE_DIR or ~/.cache/emonas). */
  cacheDir?: string;
  /** 'emonas' (the default) or 'reference' (protocol.ts). */
  protocol?: TrainingProtocol;
}

export interface TrainOneHooks {
  onInspect?: (done: number, total: number) => void;
  /** Before training starts: the plan to show. */
  onPlan?: (plan: PreprocessingPlan, split: Split) => void;
  onBackend?: (choice: BackendChoice) => void;
  onWorker?: (pid: number | undefined) => void;
  onEvent?: (event: TrainEvent) => void;
  signal?: AbortSignal;
}

export interface PreparedTraining {
  job: TrainJob;
  plan: PreprocessingPlan;
  split: Split;
  splitFile: string;
}

function positive(name: string, value: number | undefined, fallback: number): number {
  const v = value ?? fallback;
  if (!(v > 0) || !Number.isInteger(v)) {
    throw new EmonasError('bad_request', `${name} must be a positive whole number, not ${v}.`);
  }
  return v;
}

/** Everything before the worker starts: genome, dataset, plan, split and the job, written down in `out`. */
export async function prepareTraining(
  request: TrainRequest,
  hooks: TrainOneHooks = {},
): Promise<PreparedTraining> {
  const genome = await resolveGenome(request.genome);
  const epochs = positive('The number of epochs', request.epochs, TRAIN_DEFAULTS.epochs);
  const stepsPerEpoch = positive('The steps per epoch', request.stepsPerEpoch, TRAIN_DEFAULTS.stepsPerEpoch);
  const batchSize = positive('The batch size', request.batchSize, TRAIN_DEFAULTS.batchSize);
  const maxMinutes = request.maxMinutes ?? TRAIN_DEFAULTS.maxMinutes;
  if (!(maxMinutes >= 0)) {
    throw new EmonasError('bad_request', `--max-minutes must be 0 (no limit) or more, not ${maxMinutes}.`);
  }
  const seed = request.seed ?? TRAIN_DEFAULTS.seed;
  const splitSeed = request.splitSeed ?? seed;
  for (const [name, value] of [
    ['seed', seed],
    ['split seed', splitSeed],
  ] as const) {
    if (!Number.isInteger(value) || value < 0) {
      throw new EmonasError('bad_request', `The ${name} must be a whole number of 0 or more, not ${value}.`);
    }
  }
  const setup = await prepareTrainingSetup(
    {
      dataset: request.dataset,
      split: {
        valFraction: request.valFraction ?? TRAIN_DEFAULTS.valFraction,
        testFraction: request.testFraction ?? TRAIN_DEFAULTS.testFraction,
        seed: splitSeed,
      },
      settings: {
        epochs,
        stepsPerEpoch,
        batchSize,
        patch: request.patch ?? null,
        maxMinutes,
        ...(request.protocol && { protocol: request.protocol }),
      },
      cacheDir: request.cacheDir ?? null,
      ...(request.allowLinks === true && { allowLinks: true }),
    },
    { onProgress: (_stage, done, total) => hooks.onInspect?.(done, total) },
  );
  const job = preparedJob(setup, genome, seed, resolve(request.out));
  hooks.onPlan?.(job.plan, setup.split);
  return { job, plan: job.plan, split: setup.split, splitFile: join(job.outDir, SPLIT_FILE) };
}

/** Trains one candidate in its own worker process; a failed candidate is a result, not an exception. */
export async function trainCandidate(
  request: TrainRequest,
  hooks: TrainOneHooks = {},
): Promise<TrainResponse> {
  const { job, split } = await prepareTraining(request, hooks);
  return trainPrepared(job, split, hooks, false);
}

/** Whether a training's output folder holds a checkpoint that `resumeTraining` can continue from. */
export function hasCheckpoint(outDir: string): boolean {
  return existsSync(join(outDir, TRAINING_CHECKPOINT_FILE));
}

export interface ResumeTrainingRequest {
  /** The --out folder of an interrupted training. */
  out: string;
}

/**
 * Continues an interrupted training (a killed worker, a cancel, a closed terminal) in its output folder
 * from the checkpoint of its last completed epoch, with the job recorded there: same genome, settings,
 * split and seed, weights, optimizer and sampling state, so it continues where the training stopped.
 */
export async function resumeTraining(
  request: ResumeTrainingRequest,
  hooks: TrainOneHooks = {},
): Promise<TrainResponse> {
  const outDir = resolve(request.out);
  const path = join(outDir, TRAINING_CHECKPOINT_FILE);
  const lookup = await readCheckpoint(path);
  if (!lookup.found) {
    const finished = await readFile(join(outDir, 'result.json'), 'utf8').then(
      (text) => (JSON.parse(text) as { status?: unknown }).status === 'completed',
      () => false,
    );
    throw new EmonasError(
      'not_found',
      lookup.reason !== null
        ? `The training in ${outDir} cannot be resumed: ${lookup.reason} Start it again without --resume.`
        : finished
          ? `The training in ${outDir} has finished already (see result.json); there is nothing to resume.`
          : `${outDir} holds no training checkpoint to resume from (${path} is missing): the training there ` +
            'stopped before its first epoch ended, or the folder is not an emonas train --out folder. Start it ' +
            'again without --resume.',
      { file: path },
    );
  }
  const job: TrainJob = { ...lookup.checkpoint.job, outDir };
  const splitFile = join(outDir, SPLIT_FILE);
  let split: Split;
  try {
    split = JSON.parse(await readFile(splitFile, 'utf8')) as Split;
  } catch {
    throw new EmonasError(
      'not_found',
      `${splitFile} is missing or damaged, so the training in ${outDir} cannot be resumed; start it again without --resume.`,
      { file: splitFile },
    );
  }
  hooks.onPlan?.(job.plan, split);
  return trainPrepared(job, split, hooks, true);
}

async function trainPrepared(
  job: TrainJob,
  split: Split,
  hooks: TrainOneHooks,
  resume: boolean,
): Promise<TrainResponse> {
  if (hooks.signal?.aborted) throw new EmonasError('cancelled', 'Training was cancelled before it started.');
  const run = startTraining(job, split, {
    ...(hooks.onEvent && { onEvent: hooks.onEvent }),
    ...(hooks.onBackend && { onBackend: hooks.onBackend }),
    resume,
  });
  hooks.onWorker?.(run.pid);
  const abort = (): void => run.cancel();
  hooks.signal?.addEventListener('abort', abort, { once: true });
  const result = await run.result;
  hooks.signal?.removeEventListener('abort', abort);
  return result;
}
