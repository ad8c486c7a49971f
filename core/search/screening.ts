// Runs in: any process. SaMEA's two surrogate rules as pure functions: the screening test of method.md
// section 4.6 and the end-of-generation infill choice of section 4.7.
import { pbi, type Point2 } from './decomposition.ts';
import { nonDominated2d } from './pareto.ts';

/**
 * Train now when, for some neighbour m of the child's subproblem, the predicted point scores no worse
 * under m's weight than m's incumbent.
 */
export function isPromising(
  predicted: Point2,
  neighbours: readonly number[],
  incumbents: (slot: number) => Point2,
  weights: readonly Point2[],
  theta: number,
): boolean {
  return neighbours.some(
    (m) => pbi(predicted, weights[m] as Point2, theta) <= pbi(incumbents(m), weights[m] as Point2, theta),
  );
}

export interface DeferredPoint {
  /** Predicted normalised f1. */
  mean: number;
  std: number;
  /** Exact normalised f2. */
  f2Norm: number;
}

/**
 * Which deferred candidates to train at the end of a generation, as indices into `deferred`, in training
 * order: those on the front of (archive front + deferred predictions), lowest f1 first; then the lowest
 * predicted mean of the rest; then the highest predicted std of what remains. The others are discarded.
 */
export function chooseInfill(archiveFront: readonly Point2[], deferred: readonly DeferredPoint[]): number[] {
  const pool: Point2[] = [...archiveFront, ...deferred.map((d): Point2 => [d.mean, d.f2Norm])];
  const picks = nonDominated2d(pool)
    .filter((i) => i >= archiveFront.length)
    .map((i) => i - archiveFront.length);
  const pickBy = (better: (a: DeferredPoint, b: DeferredPoint) => boolean): void => {
    let best = -1;
    deferred.forEach((d, i) => {
      if (!picks.includes(i) && (best < 0 || better(d, deferred[best] as DeferredPoint))) best = i;
    });
    if (best >= 0) picks.push(best);
  };
  pickBy((a, b) => a.mean < b.mean);
  pickBy((a, b) => a.std > b.std);
  return picks;
}
