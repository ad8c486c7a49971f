// Runs in: the engine (or a test). The one training set-up: a dataset folder, a split and the training
// settings (objective included) become what a candidate trains on: the dataset read, its preprocessing plan,
// the patient split, the preprocessed-case cache and the settings. `emonas train`, a search (on any executor,
// through its <run>/training.json), `emonas finalize` and the review (the split.json of each model folder)
// all take their training from here, so no two of them can train differently.
import { mkdirSync } from 'node:fs';
import { totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { EmonasError } from '../../base/errors.ts';
import { DEFAULT_PROTOCOL } from '../../base/training-protocol.ts';
import type { CaseEntry, DatasetManifest } from '../../datasets/case-table.ts';
import { importDataset } from '../../datasets/import.ts';
import { cacheFolder, defaultCacheRoot, loadPreparedCases } from '../../datasets/pipeline/cache.ts';
import type { Shape3 } from '../../datasets/pipeline/grid.ts';
import { computePlan, type CaseGeometry, type PreprocessingPlan } from '../../datasets/pipeline/plan.ts';
import { referencePromise12PlanOf } from '../../datasets/pipeline/protocol-plan.ts';
import { referencePromise12Split } from '../../datasets/pipeline/reference-split.ts';
import { splitByPatient, type Split, type SplitOptions } from '../../datasets/pipeline/split.ts';
import { isUsableForTraining } from '../../datasets/summary.ts';
import { writeFileAtomicSync } from '../../io/files.ts';
import { canonicalGeometry, canonicalTransform } from '../../io/orientation.ts';
import { checkMemoryBudget } from '../../nn/memory.ts';
import { checkPatchShape } from '../../nn/patch-shape.ts';
import type { Genome } from '../../searchspace/genome.ts';
import { loadCanonicalCase } from '../case-loader.ts';
import { outputChannels, type TrainJob, type TrainSettings } from '../job.ts';
import { protocolPatch } from './protocol.ts';
import { referenceSettings, type SettingsChoice } from './settings.ts';

export interface SetupRequest {
  /** Dataset folder (MSD, ACDC or PROMISE12 as distributed). */
  dataset: string;
  /** The patient split; its seed is the same for every candidate trained on the set-up. */
  split: SplitOptions;
  /** patch null: the dataset plan's. The seed is each candidate's own (see preparedJob). */
  settings: Omit<SettingsChoice, 'patch' | 'seed'> & { patch: Shape3 | null };
  /** Where preprocessed cases are cached; null: EMONAS_CACHE_DIR or ~/.cache/emonas. */
  cacheDir: string | null;
  /** Follow symbolic links out of the dataset folder, as the user explicitly allowed (--allow-links). */
  allowLinks?: boolean;
}

/** What every candidate of a set-up trains on; a search stores it in <run>/training.json. */
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
  /** A candidate's seed replaces `seed`. */
  settings: TrainSettings;
  /** Input channels and network output channels the parameter counts are made for. */
  task: { inChannels: number; classes: number };
}

export interface SetupHooks {
  onProgress?: (stage: 'reading' | 'preprocessing', done: number, total: number) => void;
}

/** A case's geometry in the canonical orientation, as the plan is made from it. */
export function geometryOf(entry: CaseEntry): CaseGeometry {
  const { shape, spacing, origin, direction } = entry;
  if (!shape || !spacing || !origin || !direction) {
    throw new EmonasError('invalid_dataset', `The geometry of ${entry.image} could not be read.`, {
      file: entry.image,
    });
  }
  const canonical = canonicalGeometry(canonicalTransform({ shape, spacing, origin, direction }));
  return { shape: canonical.shape, spacing: canonical.spacing };
}

/** The preprocessing plan of a dataset's usable cases (its patch is the default training patch). */
export function planDataset(manifest: DatasetManifest): PreprocessingPlan {
  const usable = manifest.cases.filter(isUsableForTraining);
  return computePlan(usable.map(geometryOf), { dataset: manifest.name, labels: manifest.labels });
}

/** Reads the dataset, plans its preprocessing and splits it by patient; the cache is filled by fillCache. */
export async function prepareTrainingSetup(
  request: SetupRequest,
  hooks: SetupHooks = {},
): Promise<TrainingSetup> {
  const manifest = await importDataset(resolve(request.dataset), {
    ...(request.allowLinks === true && { allowLinks: true }),
    onProgress: (done, total) => hooks.onProgress?.('reading', done, total),
  });
  const protocol = request.settings.protocol ?? DEFAULT_PROTOCOL;
  // The reference protocol on PROMISE12 preprocesses and splits as the reference (method.md 6.1).
  const promise12 = protocol === 'reference' && manifest.kind === 'promise12';
  const planned = planDataset(manifest);
  const datasetPlan = promise12 ? referencePromise12PlanOf(planned) : planned;
  const patch = request.settings.patch ?? protocolPatch(protocol, datasetPlan.patch);
  const plan: PreprocessingPlan = { ...datasetPlan, patch: [...patch] };
  const split = promise12 ? referencePromise12Split(manifest) : splitByPatient(manifest.cases, request.split);
  const byId = new Map(manifest.cases.map((c) => [c.id, c]));
  const pick = (ids: string[]): CaseEntry[] => ids.map((id) => byId.get(id) as CaseEntry);
  return {
    format: 'emonas-search-training',
    version: 1,
    datasetRoot: manifest.root,
    datasetName: manifest.name,
    plan,
    cacheFolder: cacheFolder(request.cacheDir ?? defaultCacheRoot(), manifest.root, plan),
    split,
    train: pick(split.train),
    val: pick(split.val),
    settings: referenceSettings({ ...request.settings, protocol, patch, seed: 0 }),
    task: { inChannels: 1, classes: outputChannels(plan.head, plan.labels.length) },
  };
}

/**
 * Preprocesses every training and validation case into the cache here, once, so that the candidates'
 * workers only read it (rather than two workers preprocessing the same cases at the start of a run).
 * Current entries are only checked, so on resume this takes a moment.
 */
export async function fillCache(setup: TrainingSetup, hooks: SetupHooks = {}): Promise<void> {
  await loadPreparedCases(
    [...setup.train, ...setup.val],
    setup.plan,
    setup.cacheFolder,
    loadCanonicalCase,
    (done, total) => hooks.onProgress?.('preprocessing', done, total),
  );
}

export const SPLIT_FILE = 'split.json';

/**
 * The job that trains `genome` with the set-up's data and settings into outDir, whose split.json records the
 * split (the review reads its validation cases there). A patch the genome cannot pool, or a network that
 * cannot fit in memory (a quarter of it stays free), is refused here rather than left to kill a worker.
 */
export function preparedJob(
  setup: TrainingSetup,
  genome: Genome,
  seed: number,
  outDir: string,
  overrides: Partial<TrainSettings> = {},
): TrainJob {
  const settings: TrainSettings = { ...setup.settings, ...overrides, seed };
  settings.objectives = { ...settings.objectives, budget: settings.epochs };
  checkPatchShape(genome, settings.patch);
  checkMemoryBudget(
    genome,
    {
      patch: settings.patch,
      batch: settings.batchSize,
      inChannels: setup.task.inChannels,
      classes: setup.task.classes,
    },
    Math.floor(totalmem() * 0.75),
  );
  mkdirSync(outDir, { recursive: true });
  writeFileAtomicSync(
    join(outDir, SPLIT_FILE),
    JSON.stringify({ dataset: setup.datasetRoot, ...setup.split }, null, 2) + '\n',
  );
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
