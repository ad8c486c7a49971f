// Runs in: the engine. Training one candidate as plain functions on JSON-able data, for the emonas
// command and the desktop app alike: read the dataset, plan its preprocessing (shown before training),
// split it by patient (recorded in the output folder), then train in a worker process of its own and
// record the result there too; or resume such a training from its last epoch's checkpoint.
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { EmonasError } from '../base/errors.ts';
import type { CaseEntry, DatasetManifest } from '../datasets/case-table.ts';
import { DEFAULT_AUGMENTATION } from '../datasets/pipeline/augment.ts';
import { cacheFolder, defaultCacheRoot } from '../datasets/pipeline/cache.ts';
import type { Shape3 } from '../datasets/pipeline/grid.ts';
import { computePlan, type CaseGeometry, type PreprocessingPlan } from '../datasets/pipeline/plan.ts';
import { splitByPatient, type Split } from '../datasets/pipeline/split.ts';
import { isUsableForTraining } from '../datasets/summary.ts';
import { canonicalGeometry, canonicalTransform } from '../io/orientation.ts';
import { BUILTIN_GENOMES, builtinGenome } from '../nn/builtin-genomes.ts';
import { checkMemoryBudget } from '../nn/memory.ts';
import { checkPatchShape } from '../nn/patch-shape.ts';
import { parseGenome } from '../searchspace/genome-json.ts';
import type { Genome } from '../searchspace/genome.ts';
import type { BackendChoice } from '../train/backend.ts';
import {
  outputChannels,
  type CandidateResult,
  type TrainEvent,
  type TrainJob,
  type TrainSettings,
} from '../train/job.ts';
import { readCheckpoint, TRAINING_CHECKPOINT_FILE } from '../train/checkpoint.ts';
import { REFERENCE_OBJECTIVES } from '../train/objectives.ts';
import { REFERENCE_EARLY_STOPPING, REFERENCE_PLATEAU } from '../train/schedule.ts';
import { trainInWorker } from '../train/worker-host.ts';
import { inspectDataset } from './datasets.ts';
import { TRAIN_DEFAULTS } from './train-defaults.ts';

export interface TrainRequest {
  /** Dataset folder (MSD, ACDC or PROMISE12 as distributed). */
  dataset: string;
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
  /** Stop cleanly before this many minutes of training (default TRAIN_DEFAULTS.maxMinutes; 0: no limit). */
  maxMinutes?: number;
  /** Where preprocessed cases are cached (default: EMONAS_CACHE_DIR or ~/.cache/emonas). */
  cacheDir?: string;
}

export { TRAIN_DEFAULTS } from './train-defaults.ts';

export interface TrainHooks {
  onInspect?: (done: number, total: number) => void;
  /** Before training starts: the plan to show. */
  onPlan?: (plan: PreprocessingPlan, split: Split) => void;
  onBackend?: (choice: BackendChoice) => void;
  onWorker?: (pid: number | undefined) => void;
  onEvent?: (event: TrainEvent) => void;
  signal?: AbortSignal;
}

export interface TrainResponse extends CandidateResult {
  genome: Genome;
  patch: Shape3;
  /** Case counts per side; the case ids are in `file`. */
  split: { train: number; val: number; test: number; file: string };
  /** The folder `emonas predict --model` takes. */
  modelDir: string;
}

export async function resolveGenome(spec: string | Genome): Promise<Genome> {
  if (typeof spec !== 'string') return parseGenome(spec);
  if (Object.hasOwn(BUILTIN_GENOMES, spec)) return builtinGenome(spec);
  const text = spec.trim();
  if (text.startsWith('{')) {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (err) {
      throw new EmonasError(
        'invalid_genome',
        `The inline genome is not valid JSON: ${(err as Error).message}.`,
      );
    }
    return parseGenome(value);
  }
  let fileText: string;
  try {
    fileText = await readFile(spec, 'utf8');
  } catch {
    throw new EmonasError(
      'invalid_genome',
      `"${spec}" is neither a built-in genome (${Object.keys(BUILTIN_GENOMES).join(', ')}), nor inline JSON, nor a readable JSON file.`,
      { file: spec },
    );
  }
  let value: unknown;
  try {
    value = JSON.parse(fileText);
  } catch (err) {
    throw new EmonasError('invalid_genome', `${spec} is not valid JSON: ${(err as Error).message}.`, {
      file: spec,
    });
  }
  return parseGenome(value, spec);
}

function geometryOf(entry: CaseEntry): CaseGeometry {
  const { shape, spacing, origin, direction } = entry;
  if (!shape || !spacing || !origin || !direction) {
    throw new EmonasError('invalid_dataset', `The geometry of ${entry.image} could not be read.`, {
      file: entry.image,
    });
  }
  const canonical = canonicalGeometry(canonicalTransform({ shape, spacing, origin, direction }));
  return { shape: canonical.shape, spacing: canonical.spacing };
}

export function planDataset(manifest: DatasetManifest): PreprocessingPlan {
  const usable = manifest.cases.filter(isUsableForTraining);
  return computePlan(usable.map(geometryOf), { dataset: manifest.name, labels: manifest.labels });
}

function positive(name: string, value: number | undefined, fallback: number): number {
  const v = value ?? fallback;
  if (!(v > 0) || !Number.isInteger(v)) {
    throw new EmonasError('bad_request', `${name} must be a positive whole number, not ${v}.`);
  }
  return v;
}

/**
 * Training settings as the reference trains (its augmentation, early stopping, learning-rate plateau and
 * objectives), for `emonas train` and a search's candidates alike; `objective` overrides f1's alpha and beta.
 */
export function referenceSettings(options: {
  epochs: number;
  stepsPerEpoch: number;
  batchSize: number;
  patch: Shape3;
  seed: number;
  /** 0: no time limit. */
  maxMinutes: number;
  objective?: { alpha: number; beta: number };
}): TrainSettings {
  const { epochs, maxMinutes } = options;
  return {
    epochs,
    stepsPerEpoch: options.stepsPerEpoch,
    batchSize: options.batchSize,
    patch: [...options.patch],
    seed: options.seed,
    foregroundProbability: TRAIN_DEFAULTS.foregroundProbability,
    augmentation: DEFAULT_AUGMENTATION,
    earlyStopping: REFERENCE_EARLY_STOPPING,
    plateau: REFERENCE_PLATEAU,
    objectives: { ...REFERENCE_OBJECTIVES, ...options.objective, budget: epochs },
    maxSeconds: maxMinutes === 0 ? null : maxMinutes * 60,
  };
}

export interface PreparedTraining {
  job: TrainJob;
  plan: PreprocessingPlan;
  split: Split;
  splitFile: string;
}

/** Everything before the worker starts: genome, dataset, plan, split and the job, written down in `out`. */
export async function prepareTraining(
  request: TrainRequest,
  hooks: TrainHooks = {},
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
  if (!Number.isInteger(seed) || seed < 0) {
    throw new EmonasError('bad_request', `The seed must be a whole number of 0 or more, not ${seed}.`);
  }
  const manifest = await inspectDataset(resolve(request.dataset), {
    onProgress: (done, total) => hooks.onInspect?.(done, total),
  });
  const datasetPlan = planDataset(manifest);
  const patch = request.patch ?? datasetPlan.patch;
  checkPatchShape(genome, patch);
  const plan: PreprocessingPlan = { ...datasetPlan, patch: [...patch] };
  // Refuse up front what cannot fit, rather than let the worker die; a quarter of the memory stays free.
  checkMemoryBudget(
    genome,
    { patch, batch: batchSize, inChannels: 1, classes: outputChannels(plan.head, plan.labels.length) },
    Math.floor(totalmem() * 0.75),
  );
  const split = splitByPatient(manifest.cases, {
    valFraction: request.valFraction ?? TRAIN_DEFAULTS.valFraction,
    testFraction: request.testFraction ?? TRAIN_DEFAULTS.testFraction,
    seed,
  });
  const outDir = resolve(request.out);
  await mkdir(outDir, { recursive: true });
  const splitFile = join(outDir, 'split.json');
  await writeFile(splitFile, JSON.stringify({ dataset: manifest.root, ...split }, null, 2) + '\n');
  hooks.onPlan?.(plan, split);

  const byId = new Map(manifest.cases.map((c) => [c.id, c]));
  const pick = (ids: string[]): CaseEntry[] => ids.map((id) => byId.get(id) as CaseEntry);
  const settings = referenceSettings({ epochs, stepsPerEpoch, batchSize, patch, seed, maxMinutes });
  const job: TrainJob = {
    genome,
    plan,
    cacheFolder: cacheFolder(request.cacheDir ?? defaultCacheRoot(), manifest.root, plan),
    train: pick(split.train),
    val: pick(split.val),
    settings,
    outDir,
  };
  return { job, plan, split, splitFile };
}

/** Trains one candidate in its own worker process; a failed candidate is a result, not an exception. */
export async function trainCandidate(request: TrainRequest, hooks: TrainHooks = {}): Promise<TrainResponse> {
  const { job, split, splitFile } = await prepareTraining(request, hooks);
  return trainPrepared(job, split, splitFile, hooks, false);
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
  hooks: TrainHooks = {},
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
  const splitFile = join(outDir, 'split.json');
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
  return trainPrepared(job, split, splitFile, hooks, true);
}

async function trainPrepared(
  job: TrainJob,
  split: Split,
  splitFile: string,
  hooks: TrainHooks,
  resume: boolean,
): Promise<TrainResponse> {
  if (hooks.signal?.aborted) throw new EmonasError('cancelled', 'Training was cancelled before it started.');
  const run = trainInWorker(job, {
    ...(hooks.onEvent && { onEvent: hooks.onEvent }),
    ...(hooks.onBackend && { onBackend: hooks.onBackend }),
    resume,
  });
  hooks.onWorker?.(run.pid);
  const abort = (): void => run.cancel();
  hooks.signal?.addEventListener('abort', abort, { once: true });
  const result = await run.result;
  hooks.signal?.removeEventListener('abort', abort);
  const response: TrainResponse = {
    ...result,
    genome: job.genome,
    patch: job.settings.patch,
    split: { train: split.train.length, val: split.val.length, test: split.test.length, file: splitFile },
    modelDir: job.outDir,
  };
  await writeFile(join(job.outDir, 'result.json'), JSON.stringify(response, null, 2) + '\n');
  return response;
}
