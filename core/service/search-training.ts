// Runs in: the engine. A search over a dataset folder: its settings (checked once), what is prepared once
// per run (the dataset read, the preprocessing plan, the patient split and the preprocessed-case cache,
// written to <run>/training.json so resume needs only the run folder), and the launcher that trains one
// candidate in a training worker of its own, leaving its folder laid out as `emonas train --out` lays it
// out (model.json, weights.bin, emonas-model.json, split.json, training-log.csv, result.json).
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { EmonasError } from '../base/errors.ts';
import type { CaseEntry } from '../datasets/case-table.ts';
import { cacheFolder, defaultCacheRoot, loadPreparedCases } from '../datasets/pipeline/cache.ts';
import type { Shape3 } from '../datasets/pipeline/grid.ts';
import type { PreprocessingPlan } from '../datasets/pipeline/plan.ts';
import { splitByPatient, type Split } from '../datasets/pipeline/split.ts';
import type { EvaluationTask } from '../executors/executor.ts';
import type { EvaluationLauncher, RunningEvaluation } from '../executors/worker-pool.ts';
import { writeFileAtomic } from '../runs/run-folder.ts';
import { checkMemoryBudget } from '../nn/memory.ts';
import { countParams } from '../nn/param-count.ts';
import { checkPatchShape } from '../nn/patch-shape.ts';
import type { EvaluationOutcome } from '../search/protocol.ts';
import type { Genome } from '../searchspace/genome.ts';
import { loadCanonicalCase } from '../train/case-loader.ts';
import { outputChannels, type TrainEvent, type TrainJob, type TrainSettings } from '../train/job.ts';
import type { WorkerHandle } from '../train/protocol.ts';
import { forkTrainingWorker, trainInWorker } from '../train/worker-host.ts';
import { inspectDataset } from './datasets.ts';
import { TRAIN_DEFAULTS, planDataset, referenceSettings } from './train.ts';
import { outcomeOf, type TrainingResult } from './training-outcome.ts';

/** A search over a dataset, as run.json records it (every setting resolved). */
export interface DatasetProblem {
  kind: 'dataset';
  /** Absolute path of the dataset folder. */
  dataset: string;
  /** C: epochs per candidate (the search's objective.epochs). */
  epochs: number;
  stepsPerEpoch: number;
  batchSize: number;
  /** null: the dataset plan's patch. */
  patch: Shape3 | null;
  /** Per-candidate time limit in minutes; 0: none. */
  maxMinutes: number;
  valFraction: number;
  testFraction: number;
  splitSeed: number;
  /** null: EMONAS_CACHE_DIR or ~/.cache/emonas. */
  cacheDir: string | null;
  /**
   * Candidates with more trainable parameters fail at once (code too_large) instead of training: on a
   * CPU, networks of tens of millions of parameters cannot finish an epoch within a short time limit, and
   * would hold a worker until the hard limit. null: no bound. Enforced by the local worker pool.
   */
  maxParams: number | null;
}

/** The reference's candidate training: 20 steps per epoch in batches of 2 (C comes from the search). */
export const SEARCH_TRAINING_DEFAULTS = {
  stepsPerEpoch: 20,
  batchSize: 2,
  maxMinutes: 0,
  valFraction: TRAIN_DEFAULTS.valFraction,
  testFraction: TRAIN_DEFAULTS.testFraction,
  splitSeed: 0,
} as const;

const SETTINGS = [
  'dataset',
  'epochs',
  'stepsPerEpoch',
  'batchSize',
  'patch',
  'maxMinutes',
  'valFraction',
  'testFraction',
  'splitSeed',
  'cacheDir',
  'maxParams',
] as const;

function bad(message: string): never {
  throw new EmonasError('bad_request', message);
}

/** Checks a dataset problem from user input; `epochs` falls back to the search's C. */
export function parseDatasetProblem(value: Record<string, unknown>, searchEpochs: number): DatasetProblem {
  for (const key of Object.keys(value)) {
    if (key !== 'kind' && !(SETTINGS as readonly string[]).includes(key)) {
      bad(`A dataset search has no setting ${key}; it has ${SETTINGS.join(', ')}.`);
    }
  }
  const { dataset } = value;
  if (typeof dataset !== 'string' || dataset === '') {
    bad('A dataset search needs the dataset folder, e.g. {"kind": "dataset", "dataset": "/data/Task04"}.');
  }
  const whole = (key: string, fallback: number, min: number): number => {
    const v = value[key] ?? fallback;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min) {
      bad(
        `Setting ${key} of the dataset search must be a whole number of at least ${min}, not ${String(v)}.`,
      );
    }
    return v;
  };
  const fraction = (key: string, fallback: number): number => {
    const v = value[key] ?? fallback;
    if (typeof v !== 'number' || !(v >= 0 && v < 1)) {
      bad(`Setting ${key} of the dataset search must be a fraction from 0 to below 1, not ${String(v)}.`);
    }
    return v;
  };
  const maxMinutes = value.maxMinutes ?? SEARCH_TRAINING_DEFAULTS.maxMinutes;
  if (typeof maxMinutes !== 'number' || !(maxMinutes >= 0)) {
    bad(`Setting maxMinutes must be 0 (no limit) or more minutes per candidate, not ${String(maxMinutes)}.`);
  }
  let patch: Shape3 | null = null;
  if (value.patch !== undefined && value.patch !== null) {
    const p = value.patch;
    if (!Array.isArray(p) || p.length !== 3 || p.some((s) => !Number.isInteger(s) || (s as number) < 16)) {
      bad(
        `Setting patch must be three whole numbers of at least 16, e.g. [32, 48, 32], not ${JSON.stringify(p)}.`,
      );
    }
    patch = [p[0], p[1], p[2]] as Shape3;
    // Every genome of the search space must fit: a 9-cell network halves the patch four times.
    checkPatchShape({ cells: 9 }, patch);
  }
  const cacheDir = value.cacheDir ?? null;
  if (cacheDir !== null && typeof cacheDir !== 'string') bad('Setting cacheDir must be a folder path.');
  return {
    kind: 'dataset',
    dataset: resolve(dataset),
    epochs: whole('epochs', searchEpochs, 1),
    stepsPerEpoch: whole('stepsPerEpoch', SEARCH_TRAINING_DEFAULTS.stepsPerEpoch, 1),
    batchSize: whole('batchSize', SEARCH_TRAINING_DEFAULTS.batchSize, 1),
    patch,
    maxMinutes,
    valFraction: fraction('valFraction', SEARCH_TRAINING_DEFAULTS.valFraction),
    testFraction: fraction('testFraction', SEARCH_TRAINING_DEFAULTS.testFraction),
    splitSeed: whole('splitSeed', SEARCH_TRAINING_DEFAULTS.splitSeed, 0),
    cacheDir: cacheDir === null ? null : resolve(cacheDir),
    maxParams: value.maxParams === undefined || value.maxParams === null ? null : whole('maxParams', 0, 1),
  };
}

/** What every candidate of a run trains on: prepared once, stored in <run>/training.json. */
export interface TrainingSetup {
  format: 'emonas-search-training';
  version: 1;
  datasetRoot: string;
  datasetName: string;
  plan: PreprocessingPlan;
  cacheFolder: string;
  split: Split;
  train: CaseEntry[];
  val: CaseEntry[];
  /** The candidate's seed replaces `seed`. */
  settings: TrainSettings;
  /** Input channels and network output channels the parameter counts are made for. */
  task: { inChannels: number; classes: number };
}

export const TRAINING_FILE = 'training.json';

export interface PrepareHooks {
  onProgress?: (stage: 'reading' | 'preprocessing', done: number, total: number) => void;
}

/** Reads the dataset, plans it, splits it by patient and fills the preprocessed-case cache. */
export async function prepareSearchTraining(
  problem: DatasetProblem,
  objective: { alpha: number; beta: number },
  hooks: PrepareHooks = {},
): Promise<TrainingSetup> {
  const manifest = await inspectDataset(problem.dataset, {
    onProgress: (done, total) => hooks.onProgress?.('reading', done, total),
  });
  const datasetPlan = planDataset(manifest);
  const patch = problem.patch ?? datasetPlan.patch;
  const plan: PreprocessingPlan = { ...datasetPlan, patch: [...patch] };
  const split = splitByPatient(manifest.cases, {
    valFraction: problem.valFraction,
    testFraction: problem.testFraction,
    seed: problem.splitSeed,
  });
  const byId = new Map(manifest.cases.map((c) => [c.id, c]));
  const pick = (ids: string[]): CaseEntry[] => ids.map((id) => byId.get(id) as CaseEntry);
  const folder = cacheFolder(problem.cacheDir ?? defaultCacheRoot(), manifest.root, plan);
  const setup: TrainingSetup = {
    format: 'emonas-search-training',
    version: 1,
    datasetRoot: manifest.root,
    datasetName: manifest.name,
    plan,
    cacheFolder: folder,
    split,
    train: pick(split.train),
    val: pick(split.val),
    settings: referenceSettings({
      epochs: problem.epochs,
      stepsPerEpoch: problem.stepsPerEpoch,
      batchSize: problem.batchSize,
      patch,
      seed: 0,
      maxMinutes: problem.maxMinutes,
      objective,
    }),
    task: { inChannels: 1, classes: outputChannels(plan.head, plan.labels.length) },
  };
  await fillCache(setup, hooks);
  return setup;
}

/**
 * Preprocesses every training and validation case into the cache here, once, so that the candidates'
 * workers only read it (rather than two workers preprocessing the same cases at the start of a run).
 * Current entries are only checked, so on resume this takes a moment.
 */
export async function fillCache(setup: TrainingSetup, hooks: PrepareHooks = {}): Promise<void> {
  await loadPreparedCases(
    [...setup.train, ...setup.val],
    setup.plan,
    setup.cacheFolder,
    loadCanonicalCase,
    (done, total) => hooks.onProgress?.('preprocessing', done, total),
  );
}

export function writeTrainingSetup(runDir: string, setup: TrainingSetup): void {
  writeFileAtomic(join(runDir, TRAINING_FILE), JSON.stringify(setup) + '\n');
}

export function readTrainingSetup(runDir: string): TrainingSetup {
  const path = join(runDir, TRAINING_FILE);
  if (!existsSync(path)) {
    throw new EmonasError(
      'not_found',
      `${path} is missing, so this run's training setup (split, plan, settings) is unknown; the run cannot train more candidates.`,
      { file: path },
    );
  }
  let setup: Partial<TrainingSetup>;
  try {
    setup = JSON.parse(readFileSync(path, 'utf8')) as Partial<TrainingSetup>;
  } catch (err) {
    throw new EmonasError('unreadable_file', `${path} is not valid JSON: ${(err as Error).message}`, {
      file: path,
    });
  }
  if (setup.format !== 'emonas-search-training' || setup.version !== 1) {
    throw new EmonasError(
      'unsupported_format',
      `${path} is not a training setup of this version of Emonas Studio.`,
      { file: path },
    );
  }
  return setup as TrainingSetup;
}

/** The summary run.json keeps of the dataset: where, what, and the fixed split. */
export function datasetSummary(setup: TrainingSetup): Record<string, unknown> {
  return {
    root: setup.datasetRoot,
    name: setup.datasetName,
    labels: setup.plan.labels,
    patch: setup.settings.patch,
    split: {
      seed: setup.split.seed,
      valFraction: setup.split.valFraction,
      testFraction: setup.split.testFraction,
      train: setup.split.train,
      val: setup.split.val,
      test: setup.split.test,
    },
  };
}

/** The job that trains `genome` with the run's data and settings into outDir. */
export function trainingJob(
  setup: TrainingSetup,
  genome: Genome,
  seed: number,
  outDir: string,
  overrides: Partial<TrainSettings> = {},
): TrainJob {
  const settings: TrainSettings = { ...setup.settings, ...overrides, seed };
  settings.objectives = { ...settings.objectives, budget: settings.epochs };
  return {
    genome,
    plan: setup.plan,
    cacheFolder: setup.cacheFolder,
    train: setup.train,
    val: setup.val,
    settings,
    outDir,
  };
}

export interface TrainingProgress {
  id: string;
  event: TrainEvent;
}

/**
 * Starts a training worker for the job and writes split.json before and result.json after, as `emonas
 * train` does. A network that cannot fit in memory fails at once, without a worker.
 */
export function startTraining(
  setup: TrainingSetup,
  job: TrainJob,
  onEvent?: (event: TrainEvent) => void,
  spawnWorker: WorkerSpawner = forkDetachedTrainingWorker,
): { pid: number | undefined; result: Promise<TrainingResult>; cancel(): void } {
  writeFileSync(
    join(job.outDir, 'split.json'),
    JSON.stringify({ dataset: setup.datasetRoot, ...setup.split }, null, 2) + '\n',
  );
  checkMemoryBudget(
    job.genome,
    {
      patch: job.settings.patch,
      batch: job.settings.batchSize,
      inChannels: setup.task.inChannels,
      classes: setup.task.classes,
    },
    Math.floor(totalmem() * 0.75),
  );
  const run = trainInWorker(job, {
    spawn: () => spawnWorker(join(job.outDir, 'worker.log')),
    ...(onEvent && { onEvent }),
  });
  // The trainer's time limit is checked between epochs, so a network far too slow for it would still
  // finish its first epoch, however long that takes; past the hard limit it is stopped and fails.
  const hardLimit = hardLimitSeconds(job.settings.maxSeconds);
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
    const response = {
      ...r,
      genome: job.genome,
      patch: job.settings.patch,
      split: {
        train: setup.split.train.length,
        val: setup.split.val.length,
        test: setup.split.test.length,
        file: join(job.outDir, 'split.json'),
      },
      modelDir: job.outDir,
    };
    writeFileAtomic(join(job.outDir, 'result.json'), JSON.stringify(response, null, 2) + '\n');
    return r;
  });
  return { pid: run.pid, result, cancel: () => run.cancel() };
}

/** The time limit plus half of it (at least a minute), or null without a limit. */
export function hardLimitSeconds(maxSeconds: number | null): number | null {
  return maxSeconds === null ? null : maxSeconds + Math.max(60, maxSeconds / 2);
}

/** The worker pool's launcher for a dataset search: one training worker per candidate. */
export function trainingLauncher(
  setup: TrainingSetup,
  onProgress?: (progress: TrainingProgress) => void,
  spawnWorker?: WorkerSpawner,
  maxParams: number | null = null,
): EvaluationLauncher {
  return (task: EvaluationTask): RunningEvaluation => {
    if (task.workDir === undefined) {
      throw new EmonasError('internal', `Candidate ${task.id} has no folder to train into.`);
    }
    const params = countParams(task.genome, setup.task);
    if (maxParams !== null && params > maxParams) {
      const outcome: EvaluationOutcome = {
        status: 'failed',
        code: 'too_large',
        reason: `The network has ${params.toLocaleString('en-US')} parameters, more than this search's bound of ${maxParams.toLocaleString('en-US')} (maxParams), so it was not trained.`,
      };
      return { pid: undefined, outcome: Promise.resolve(outcome), cancel: () => undefined };
    }
    const job = trainingJob(setup, task.genome, task.seed, task.workDir);
    const run = startTraining(
      setup,
      job,
      onProgress && ((event) => onProgress({ id: task.id, event })),
      spawnWorker,
    );
    return { pid: run.pid, outcome: run.result.then(outcomeOf), cancel: run.cancel };
  };
}

/** Starts a training worker writing its output to logFile; Electron passes its utilityProcess adapter. */
export type WorkerSpawner = (logFile: string) => WorkerHandle;

/**
 * Detached, so a terminal's Ctrl-C reaches only the engine, which stops the search and kills its workers,
 * instead of every worker dying of the SIGINT and being recorded as a crashed candidate.
 */
function forkDetachedTrainingWorker(logFile: string): WorkerHandle {
  return forkTrainingWorker(logFile, { detached: true });
}
