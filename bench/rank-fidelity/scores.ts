// Runs in: the rank-fidelity benchmark's process. What a cheap training predicts (four candidate scores, all
// lower-is-better, all computed from the same training's log), what the long training measures, and the two
// rank correlations between them.
import { kendallTau } from '../../core/search/kendall.ts';
import { computeObjectives, REFERENCE_OBJECTIVES, worstF1 } from '../../core/train/objectives.ts';
import type { EpochRow, Measurement } from './train-cli.ts';

/**
 * f1: the search's objective (method.md section 3) as the search computes it, with the search's alpha and
 * beta and C = the cheap epochs; for a training its time limit stopped, the beta term counts the epochs it
 * ran after its best one (core/train/objectives.ts). f1-full-budget: f1 counting the epochs the time limit
 * took away as epochs without improvement, as the search did before that rule: the rule's measure.
 * loss-sum: the training losses summed over the cheap epochs (the learning-curve proxy that ranks well on
 * public NAS benchmarks). val-dice: 1 - mean validation Dice at the cheap training's best epoch.
 */
export const SCORES = ['f1', 'f1-full-budget', 'loss-sum', 'val-dice'] as const;
export type ScoreName = (typeof SCORES)[number];

export interface ScoreSettings {
  alpha: number;
  beta: number;
  /** The cheap protocol's epochs. */
  epochs: number;
}

function meanOf(values: readonly number[]): number {
  return values.reduce((a, b) => a + b, 0) / values.length;
}

/** 1 - mean hard Dice over the labels at the best epoch; null when there is none. */
export function valError(m: Measurement): number | null {
  const dice = Object.values(m.valDice);
  return m.status === 'completed' && dice.length > 0 ? 1 - meanOf(dice) : null;
}

/**
 * A cheap training's score. A failed one gets the worst value, as the search gives a failed candidate the
 * f1 bound: 1 + alpha + beta, a loss of 1 in every epoch, a Dice of 0.
 */
export function cheapScore(score: ScoreName, m: Measurement, s: ScoreSettings): number {
  const failed = m.status !== 'completed' || m.epochs.length === 0;
  if (score === 'f1' || score === 'f1-full-budget') {
    if (failed) return worstF1(s);
    const settings = { alpha: s.alpha, beta: s.beta, budget: s.epochs, window: REFERENCE_OBJECTIVES.window };
    const cutByTime = score === 'f1' && m.stoppedBy === 'time-limit';
    // The parameter count only makes f2.
    return computeObjectives(m.epochs, 1, settings, cutByTime).f1;
  }
  if (score === 'loss-sum') {
    if (failed) return s.epochs;
    // An epoch the time limit cut off counts at the last epoch's loss: the network was no worse by then.
    const last = (m.epochs.at(-1) as EpochRow).trainLoss;
    const run = m.epochs.slice(0, s.epochs).reduce((sum, e) => sum + e.trainLoss, 0);
    return run + Math.max(0, s.epochs - m.epochs.length) * last;
  }
  return failed ? 1 : (valError(m) ?? 1);
}

/** Settled: the mean validation Dice of the last five epochs moved less than this from the five before. */
export const SETTLED_DICE_CHANGE = 0.01;

/** Whether a long training's validation Dice has settled: early stopping ended it, or it changes little. */
export function settled(m: Measurement): boolean {
  if (m.stoppedBy === 'early-stopping') return true;
  const dice = m.epochs.map((e) => e.valDice);
  if (dice.length < 10) return false;
  return Math.abs(meanOf(dice.slice(-5)) - meanOf(dice.slice(-10, -5))) < SETTLED_DICE_CHANGE;
}

/** Ranks from 1, ties sharing their mean rank. */
function ranks(xs: readonly number[]): number[] {
  const order = xs.map((_, i) => i).sort((a, b) => (xs[a] as number) - (xs[b] as number));
  const out = new Array<number>(xs.length).fill(0);
  for (let i = 0; i < order.length;) {
    let j = i;
    while (j + 1 < order.length && xs[order[j + 1] as number] === xs[order[i] as number]) j++;
    for (let k = i; k <= j; k++) out[order[k] as number] = (i + j) / 2 + 1;
    i = j + 1;
  }
  return out;
}

/** Spearman's rho (Pearson's r of the ranks); null with fewer than three pairs or a constant side. */
export function spearman(x: readonly number[], y: readonly number[]): number | null {
  if (x.length !== y.length || x.length < 3) return null;
  const rx = ranks(x);
  const ry = ranks(y);
  const mx = meanOf(rx);
  const my = meanOf(ry);
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < rx.length; i++) {
    const dx = (rx[i] as number) - mx;
    const dy = (ry[i] as number) - my;
    sxy += dx * dy;
    sxx += dx * dx;
    syy += dy * dy;
  }
  return sxx > 0 && syy > 0 ? sxy / Math.sqrt(sxx * syy) : null;
}

export interface Correlation {
  pairs: number;
  kendall: number | null;
  spearman: number | null;
}

/** Rank agreement of a score with the long validation error: 1 when the score orders them alike. */
export function correlate(score: readonly number[], error: readonly number[]): Correlation {
  return { pairs: score.length, kendall: kendallTau(score, error), spearman: spearman(score, error) };
}
