// Runs in: any process (a benchmark or test; it takes seconds). The true Pareto front of the noise-free
// formula problem by enumerating all 1,977,624 architectures: the learning rate only enters f1 through a
// term of NF1 and Ncells, so each architecture needs only its best learning rate, found once per
// (NF1, Ncells) pair, instead of all 19 (37.6 M genotypes).
import { allowedValues, decode } from '../searchspace/encoding.ts';
import { GENE_SIZES } from '../searchspace/genome.ts';
import type { ParamCounter } from '../searchspace/param-counter.ts';
import type { Point2 } from './decomposition.ts';
import { bestLearningRateIndex, formulaF1 } from './formula-problem.ts';
import { normaliseF1, normaliseF2, type Normalisation } from './normalisation.ts';
import { nonDominated2d } from './pareto.ts';

export interface TrueFront {
  /** Architectures enumerated. */
  architectures: number;
  /** Front points in the normalised space, lowest f1 first. */
  points: Point2[];
  /** Index vectors of the front's genotypes, in the same order. */
  genotypes: number[][];
}

/** Calls visit(indices) for every valid architecture, each with its best learning rate in gene 0. */
export function forEachBestGenotype(visit: (indices: number[]) => void): number {
  let count = 0;
  const x = new Array<number>(GENE_SIZES.length).fill(0);
  for (let f = 0; f < 3; f++) {
    for (let c = 0; c < 3; c++) {
      x[0] = bestLearningRateIndex(f, c);
      x[1] = f;
      x[2] = c;
      const ops = allowedValues(x, 6);
      for (let i2 = 0; i2 < 2; i2++) {
        for (let i3 = 0; i3 < 3; i3++) {
          for (let i4 = 0; i4 < 4; i4++) {
            x[3] = i2;
            x[4] = i3;
            x[5] = i4;
            for (let code = 0; code < ops ** 4; code++) {
              x[6] = code % ops;
              x[7] = Math.floor(code / ops) % ops;
              x[8] = Math.floor(code / ops ** 2) % ops;
              x[9] = Math.floor(code / ops ** 3);
              visit(x);
              count++;
            }
          }
        }
      }
    }
  }
  return count;
}

export function formulaTrueFront(count: ParamCounter, normalisation: Normalisation): TrueFront {
  let best: { point: Point2; indices: number[] }[] = [];
  const architectures = forEachBestGenotype((indices) => {
    const lnParams = Math.log(count(decode(indices)));
    const p: Point2 = [
      normaliseF1(formulaF1(indices, lnParams), normalisation),
      normaliseF2(lnParams, normalisation),
    ];
    best.push({ point: p, indices: [...indices] });
    // Pruning to the running front keeps memory small; the final front is the front of the survivors.
    if (best.length >= 200_000) best = nonDominated2d(best.map((b) => b.point)).map((i) => best[i]!);
  });
  const front = nonDominated2d(best.map((b) => b.point)).map((i) => best[i]!);
  return { architectures, points: front.map((b) => b.point), genotypes: front.map((b) => b.indices) };
}
