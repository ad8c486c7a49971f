// Runs in: the engine. A search's training settings over a dataset folder (run.json's `problem`), checked
// once from user input, and the set-up request they make together with the search's objective: the one
// place a search's candidates get their training settings from, whichever executor trains them.
import { resolve } from 'node:path';
import { EmonasError } from '../../base/errors.ts';
import { DEFAULT_PROTOCOL, type TrainingProtocol } from '../../base/training-protocol.ts';
import type { Shape3 } from '../../datasets/pipeline/grid.ts';
import { checkPatchShape } from '../../nn/patch-shape.ts';
import { SEARCH_TRAINING_DEFAULTS } from './defaults.ts';
import type { SetupRequest } from './prepare.ts';

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
  /** Follow symbolic links out of the dataset folder, as the user explicitly allowed (--allow-links). */
  allowLinks?: boolean;
}

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
  'allowLinks',
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
  if (value.allowLinks !== undefined && typeof value.allowLinks !== 'boolean') {
    bad('Setting allowLinks must be true or false.');
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
    ...(value.allowLinks === true && { allowLinks: true }),
  };
}

/**
 * The set-up a dataset search's candidates train with; the objective is the search's f1 alpha and beta,
 * the protocol the search configuration's.
 */
export function searchSetupRequest(
  problem: DatasetProblem,
  objective: { alpha: number; beta: number },
  protocol: TrainingProtocol = DEFAULT_PROTOCOL,
): SetupRequest {
  return {
    dataset: problem.dataset,
    split: { valFraction: problem.valFraction, testFraction: problem.testFraction, seed: problem.splitSeed },
    settings: {
      epochs: problem.epochs,
      stepsPerEpoch: problem.stepsPerEpoch,
      batchSize: problem.batchSize,
      patch: problem.patch,
      maxMinutes: problem.maxMinutes,
      objective: { alpha: objective.alpha, beta: objective.beta },
      protocol,
    },
    cacheDir: problem.cacheDir,
    ...(problem.allowLinks === true && { allowLinks: true }),
  };
}
