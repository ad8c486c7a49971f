// Runs in: any process. The search presets as the contract states them: what `quick` and `paper` set for
// the values a client shows and edits, the bounds a client offers for each, and the patch rule a client
// explains. core/search builds its full configurations from these values and the renderer's search wizard
// shows them, so the engine and the app cannot disagree about what a preset is.
export { DEEPEST_CELLS, nearestFit, patchMultiple, unfitSides } from '../base/patch-rule.ts';

export type SearchPresetName = 'quick' | 'paper';

export interface SearchPresetValues {
  /** N: candidates per generation. */
  population: number;
  /** T: SaMEA's neighbourhood size, itself included. */
  neighbourhood: number;
  /** Generation 0 (initialisation) plus generations 1 .. generations - 1. */
  generations: number;
  /** Generations after the first in which SaMEA learns before the surrogate screens. */
  learningGenerations: number;
  /** The epoch budget C of each candidate. */
  epochs: number;
  /** Training batches per epoch of a candidate. */
  stepsPerEpoch: number;
  /** Minutes per candidate before its training stops cleanly; 0: no limit. */
  maxMinutes: number;
  /** Weight of the training loss in f1. */
  alpha: number;
  /** Weight of the early-convergence term in f1. */
  beta: number;
  seed: number;
  surrogate: boolean;
}

/** `paper` reproduces the reference (method.md section 4); `quick` is a demo for two CPU cores. */
const PAPER: SearchPresetValues = {
  population: 10,
  neighbourhood: 3,
  generations: 40,
  learningGenerations: 10,
  epochs: 120,
  stepsPerEpoch: 20,
  maxMinutes: 0,
  alpha: 0.25,
  beta: 0.25,
  seed: 12,
  surrogate: true,
};

export const SEARCH_PRESETS: Readonly<Record<SearchPresetName, Readonly<SearchPresetValues>>> = {
  paper: PAPER,
  quick: { ...PAPER, population: 6, generations: 4, learningGenerations: 2, epochs: 6 },
};

export interface SettingBounds {
  min: number;
  max: number;
  step: number;
}

/**
 * What a client offers for each setting. The engine accepts every value within them (and checks its own
 * minimums again); the maximums keep a search within what a workstation or a cluster allocation can run.
 */
export const SEARCH_SETTING_BOUNDS = {
  /** At least the neighbourhood, so every subproblem has its full neighbourhood. */
  population: { min: PAPER.neighbourhood, max: 50, step: 1 },
  /** Generation 0 draws at random, so a search that learns anything needs two. */
  generations: { min: 2, max: 200, step: 1 },
  epochs: { min: 1, max: 500, step: 1 },
  stepsPerEpoch: { min: 1, max: 1000, step: 1 },
  maxMinutes: { min: 0, max: 1440, step: 1 },
  workers: { min: 1, max: 16, step: 1 },
  alpha: { min: 0, max: 1, step: 0.05 },
  beta: { min: 0, max: 1, step: 0.05 },
  seed: { min: 0, max: 2_147_483_647, step: 1 },
} as const satisfies Record<string, SettingBounds>;
