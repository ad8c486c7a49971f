// Runs in: any process. Search configurations: every constant of method.md section 4 as a setting, the
// `paper` preset that reproduces the reference, a `quick` preset for a demo on two CPU cores, and the
// baselines (NSGA-II, random search). User input is validated here, once, with explanations.
import { SEARCH_PRESETS, type SearchPresetName } from '../api/search-presets.ts';
import { EmonasError } from '../base/errors.ts';
import { DEFAULT_PROTOCOL, TRAINING_PROTOCOLS, type TrainingProtocol } from '../base/training-protocol.ts';
import type { SurrogateEngine } from './protocol.ts';

export interface ObjectiveConfig {
  /** Weight of the training loss in f1. */
  alpha: number;
  /** Weight of the early-convergence term in f1. */
  beta: number;
  /** Epoch budget C of a candidate. */
  epochs: number;
}

export interface SurrogateConfig {
  enabled: boolean;
  /**
   * ml-random-forest (the default) or fast-cart, our own forest with scikit-learn's split rule, which fits
   * 400 candidates in tens of milliseconds instead of seconds (see core/search/README.md).
   */
  engine: SurrogateEngine;
  trees: number;
  minSamplesSplit: number;
  /** Fraction of features per tree (ml-random-forest bags features per tree: keep 1.0). */
  maxFeatures: number;
  seed: number;
  features: 'indices' | 'onehot';
  /** Refit for every screened child (the reference) or once per generation. */
  refit: 'per-child' | 'per-generation';
  /** Also predict learning-phase children, only to log how well the surrogate ranks them. */
  monitorLearningPhase: boolean;
}

interface CommonConfig {
  seed: number;
  /** Stop once this many candidates have been evaluated; null for no limit besides the generations. */
  maxEvaluations: number | null;
  /** Duplicate detection by the index vector (reference) or by functional equivalence. */
  duplicateKey: 'indices' | 'functional';
  objective: ObjectiveConfig;
  /**
   * How a dataset search's candidates are trained: 'emonas' (this project's, the default) or 'reference'
   * (the authors' slabs, augmentation and slab validation, method.md sections 5.1 and 5.3;
   * core/train/setup/protocol.ts). Not used by the formula problem.
   */
  protocol: TrainingProtocol;
  /** Reference point of the hypervolume in the normalised objective space. */
  hypervolumeReference: [number, number];
}

export interface SameaConfig extends CommonConfig {
  algorithm: 'samea';
  /** N: subproblems, weight vectors and children per generation. */
  population: number;
  /** T: neighbourhood size, itself included. */
  neighbourhood: number;
  /** Generation 0 (initialisation) plus generations 1 .. generations - 1. */
  generations: number;
  learningGenerations: number;
  theta: number;
  /** The range of the f1 weight w1 across the weight vectors. */
  weightRange: [number, number];
  /** p_m(g) = max(phi0 (1 - ln(g+1)/ln(horizon)), floor); horizon null means `generations`. */
  mutation: { phi0: number; floor: number; horizon: number | null };
  /** epsilon of the selection probabilities: 0.2 gives 0.2/N per subproblem and 0.2/n per value. */
  selectionFloor: number;
  surrogate: SurrogateConfig;
  /** End-of-generation training of deferred candidates (front, lowest mean, highest std). */
  infill: boolean;
  /**
   * sequential: each child is generated after the previous one's replacement (the reference, one slot);
   * generation: a generation's children come from the generation-start population, are evaluated as one
   * batch (concurrently when the executor has several slots), and replace in child order; with a per-child
   * surrogate refit, a screened generation's children are trained one at a time (samea.ts).
   */
  evaluationOrder: 'sequential' | 'generation';
  /** The reference repairs after the duplicate check, so a duplicate can slip through. */
  repairOrder: 'after-duplicate-check' | 'before-duplicate-check';
}

export interface Nsga2Config extends CommonConfig {
  algorithm: 'nsga2';
  population: number;
  generations: number;
  /** Per-gene probability of a uniform redraw (to a different value). */
  mutationRate: number;
}

export interface RandomSearchConfig extends CommonConfig {
  algorithm: 'random';
  /** Candidates per generation (a generation only groups the log). */
  batch: number;
  generations: number;
}

export type SearchConfig = SameaConfig | Nsga2Config | RandomSearchConfig;
export type Algorithm = SearchConfig['algorithm'];
export type Preset = SearchPresetName;

/**
 * A preset's SaMEA configuration: the values the contract states (core/api/search-presets.ts, which the
 * app's wizard shows) and the reference's remaining constants, which no client edits.
 */
function sameaPreset(preset: Preset): SameaConfig {
  const values = SEARCH_PRESETS[preset];
  return {
    algorithm: 'samea',
    seed: values.seed,
    maxEvaluations: null,
    duplicateKey: 'indices',
    objective: { alpha: values.alpha, beta: values.beta, epochs: values.epochs },
    protocol: DEFAULT_PROTOCOL,
    hypervolumeReference: [1.1, 1.1],
    population: values.population,
    neighbourhood: values.neighbourhood,
    generations: values.generations,
    learningGenerations: values.learningGenerations,
    theta: 0.001,
    weightRange: [0.5, 1],
    mutation: { phi0: 1, floor: 0.1, horizon: null },
    selectionFloor: 0.2,
    surrogate: {
      enabled: values.surrogate,
      engine: 'ml-random-forest',
      trees: 100,
      minSamplesSplit: 5,
      maxFeatures: 1.0,
      seed: 0,
      features: 'indices',
      refit: 'per-child',
      monitorLearningPhase: false,
    },
    infill: true,
    evaluationOrder: 'sequential',
    repairOrder: 'after-duplicate-check',
  };
}

const PAPER = sameaPreset('paper');
const QUICK = sameaPreset('quick');

function baseline(algorithm: 'nsga2' | 'random', preset: Preset): SearchConfig {
  const samea = preset === 'paper' ? PAPER : QUICK;
  const common: CommonConfig = {
    seed: samea.seed,
    maxEvaluations: samea.maxEvaluations,
    duplicateKey: samea.duplicateKey,
    objective: samea.objective,
    protocol: samea.protocol,
    hypervolumeReference: samea.hypervolumeReference,
  };
  if (algorithm === 'nsga2') {
    return {
      ...common,
      algorithm,
      population: samea.population,
      generations: samea.generations,
      mutationRate: 0.1,
    };
  }
  return { ...common, algorithm, batch: samea.population, generations: samea.generations };
}

/** The preset's configuration for an algorithm (SaMEA's `paper` preset is the reference). */
export function presetConfig(algorithm: Algorithm = 'samea', preset: Preset = 'paper'): SearchConfig {
  const config = algorithm === 'samea' ? (preset === 'paper' ? PAPER : QUICK) : baseline(algorithm, preset);
  return structuredClone(config);
}

function bad(message: string): never {
  throw new EmonasError('bad_request', message);
}

function merge(base: unknown, patch: unknown, path: string): unknown {
  if (patch === undefined) return base;
  if (Array.isArray(base)) {
    if (!Array.isArray(patch) || patch.length !== base.length) {
      bad(`Setting ${path} must be a list of ${base.length} numbers, got ${JSON.stringify(patch)}.`);
    }
    return patch.map((v: unknown, i) => merge(base[i], v, `${path}[${i}]`));
  }
  if (base !== null && typeof base === 'object') {
    if (patch === null || typeof patch !== 'object' || Array.isArray(patch)) {
      bad(`Setting ${path} must be an object, got ${JSON.stringify(patch)}.`);
    }
    const out: Record<string, unknown> = { ...(base as Record<string, unknown>) };
    for (const [key, value] of Object.entries(patch as Record<string, unknown>)) {
      if (!(key in out)) {
        bad(
          `There is no setting ${path ? `${path}.` : ''}${key}; known settings: ${Object.keys(out).join(', ')}.`,
        );
      }
      out[key] = merge(out[key], value, path ? `${path}.${key}` : key);
    }
    return out;
  }
  if (base === null) {
    if (patch === null || (typeof patch === 'number' && Number.isFinite(patch))) return patch;
    bad(`Setting ${path} must be a number or null, got ${JSON.stringify(patch)}.`);
  }
  if (typeof patch !== typeof base || (typeof patch === 'number' && !Number.isFinite(patch))) {
    bad(`Setting ${path} must be a ${typeof base}, got ${JSON.stringify(patch)}.`);
  }
  return patch;
}

const CHOICES: Record<string, readonly string[]> = {
  protocol: TRAINING_PROTOCOLS,
  duplicateKey: ['indices', 'functional'],
  'surrogate.engine': ['ml-random-forest', 'fast-cart'],
  'surrogate.features': ['indices', 'onehot'],
  'surrogate.refit': ['per-child', 'per-generation'],
  evaluationOrder: ['sequential', 'generation'],
  repairOrder: ['after-duplicate-check', 'before-duplicate-check'],
};

/**
 * A complete configuration from a preset and user overrides (unknown data). Unknown settings, wrong types
 * and impossible values are rejected with a sentence that names the setting.
 */
export function resolveSearchConfig(input: unknown = {}): SearchConfig {
  if (input === null || typeof input !== 'object' || Array.isArray(input)) {
    bad('A search configuration is an object, e.g. {"preset": "quick", "seed": 3}.');
  }
  const { algorithm = 'samea', preset = 'paper', ...overrides } = input as Record<string, unknown>;
  if (algorithm !== 'samea' && algorithm !== 'nsga2' && algorithm !== 'random') {
    bad(`Unknown algorithm ${JSON.stringify(algorithm)}; use samea, nsga2 or random.`);
  }
  if (preset !== 'paper' && preset !== 'quick')
    bad(`Unknown preset ${JSON.stringify(preset)}; use paper or quick.`);
  const config = merge(presetConfig(algorithm, preset), overrides, '') as SearchConfig;
  checkConfig(config);
  return config;
}

function whole(value: number, path: string, min: number): void {
  if (!Number.isInteger(value) || value < min)
    bad(`Setting ${path} must be a whole number of at least ${min}.`);
}

function checkConfig(c: SearchConfig): void {
  for (const [path, choices] of Object.entries(CHOICES)) {
    const value = path
      .split('.')
      .reduce<unknown>((o, k) => (o as Record<string, unknown> | undefined)?.[k], c);
    if (value !== undefined && !choices.includes(value as string)) {
      bad(`Setting ${path} is ${JSON.stringify(value)}; use one of ${choices.join(', ')}.`);
    }
  }
  whole(c.seed, 'seed', 0);
  if (c.maxEvaluations !== null) whole(c.maxEvaluations, 'maxEvaluations', 1);
  whole(c.objective.epochs, 'objective.epochs', 1);
  if (c.objective.alpha < 0 || c.objective.beta < 0)
    bad('objective.alpha and objective.beta must not be negative.');
  const [r1, r2] = c.hypervolumeReference;
  if (!(r1 > 0 && r2 > 0)) bad('hypervolumeReference must be two positive numbers, e.g. [1.1, 1.1].');
  whole(c.generations, 'generations', 1);
  if (c.algorithm === 'random') {
    whole(c.batch, 'batch', 1);
    return;
  }
  whole(c.population, 'population', 2);
  if (c.maxEvaluations !== null && c.maxEvaluations < c.population) {
    bad(`maxEvaluations (${c.maxEvaluations}) must be at least the population (${c.population}).`);
  }
  if (c.algorithm === 'nsga2') {
    if (!(c.mutationRate >= 0 && c.mutationRate <= 1)) bad('mutationRate must lie between 0 and 1.');
    return;
  }
  whole(c.neighbourhood, 'neighbourhood', 2);
  if (c.neighbourhood > c.population) bad('neighbourhood must not exceed population.');
  whole(c.learningGenerations, 'learningGenerations', 0);
  if (c.learningGenerations > c.generations - 1) bad('learningGenerations must be less than generations.');
  if (!(c.theta >= 0)) bad('theta must not be negative.');
  const [w0, w1] = c.weightRange;
  if (!(w0 >= 0 && w1 <= 1 && w0 <= w1)) bad('weightRange must satisfy 0 <= from <= to <= 1.');
  if (!(c.mutation.floor > 0 && c.mutation.floor <= 1 && c.mutation.phi0 > 0)) {
    bad('mutation.floor must lie in (0, 1] and mutation.phi0 must be positive.');
  }
  const horizon = c.mutation.horizon ?? c.generations;
  if (horizon < 2) bad('The mutation horizon (mutation.horizon, or generations) must be at least 2.');
  if (!(c.selectionFloor > 0))
    bad('selectionFloor must be positive, or an unseen value could never be drawn.');
  const s = c.surrogate;
  whole(s.trees, 'surrogate.trees', 1);
  whole(s.minSamplesSplit, 'surrogate.minSamplesSplit', 2);
  whole(s.seed, 'surrogate.seed', 0);
  if (!(s.maxFeatures > 0 && s.maxFeatures <= 1)) bad('surrogate.maxFeatures must lie in (0, 1].');
}
