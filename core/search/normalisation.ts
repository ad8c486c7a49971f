// Runs in: any process. The fixed normalisation of method.md section 3.3: f1 by its bound 1 + alpha + beta
// (soft Dice averaged over foreground classes, section 0), f2 = ln(params) between the ln counts of the
// reference's smallest and largest architectures, measured with the run's own parameter counter.
import { decode } from '../searchspace/encoding.ts';
import type { ParamCounter } from '../searchspace/param-counter.ts';

export interface Normalisation {
  f1Bound: number;
  lnParamsMin: number;
  lnParamsMax: number;
}

/** NF1 8, 5 cells, inputs (1, 2, 3), all identity: the reference's minimum. */
export const SMALLEST_REFERENCE = [0, 2, 2, 1, 2, 3, 6, 6, 6, 6] as const;
/** NF1 16, 9 cells, inputs (1, 2, 3), all conv3d_5x5x5: the reference's maximum. */
export const LARGEST_REFERENCE = [0, 1, 0, 1, 2, 3, 7, 7, 7, 7] as const;

export function referenceNormalisation(count: ParamCounter, alpha: number, beta: number): Normalisation {
  return {
    f1Bound: 1 + alpha + beta,
    lnParamsMin: Math.log(count(decode(SMALLEST_REFERENCE))),
    lnParamsMax: Math.log(count(decode(LARGEST_REFERENCE))),
  };
}

/** f1 clamped into [0, bound] (a diverged or out-of-range value never exceeds the bound), over the bound. */
export function normaliseF1(f1: number, n: Normalisation): number {
  return Math.min(Math.max(f1, 0), n.f1Bound) / n.f1Bound;
}

export function normaliseF2(lnParams: number, n: Normalisation): number {
  return (lnParams - n.lnParamsMin) / (n.lnParamsMax - n.lnParamsMin);
}
