import { describe, expect, it } from 'vitest';
import { RandomStream } from '../../../core/base/random.ts';
import { sanitiseOutcome } from '../../../core/search/archive.ts';
import { forEachBestGenotype } from '../../../core/search/formula-front.ts';
import {
  bestLearningRateIndex,
  formulaEvaluator,
  formulaF1,
  learningRateTerm,
} from '../../../core/search/formula-problem.ts';
import { decode } from '../../../core/searchspace/encoding.ts';
import { randomGenome } from '../../../core/searchspace/sampling.ts';
import { paramCounter } from './helpers.ts';

const spec = (indices: number[]) => {
  const genome = decode(indices);
  return { indices, genome, f2: Math.log(paramCounter(genome)) };
};

describe('formula problem', () => {
  it('enumerates every architecture once, 1,977,624 in all', () => {
    const seen = new Set<string>();
    let count = 0;
    forEachBestGenotype((x) => {
      count++;
      if (count % 997 === 0) seen.add(x.slice(1).join('.'));
    });
    expect(count).toBe(1_977_624);
    expect(seen.size).toBe(Math.floor(1_977_624 / 997));
  });

  it('finds the best learning rate per NF1/Ncells analytically, as brute force does', () => {
    for (let f = 0; f < 3; f++) {
      for (let c = 0; c < 3; c++) {
        const brute = Array.from({ length: 19 }, (_, lr) => learningRateTerm(lr, f, c));
        expect(brute[bestLearningRateIndex(f, c)]).toBe(Math.min(...brute));
      }
    }
    expect(bestLearningRateIndex(0, 0)).not.toBe(bestLearningRateIndex(2, 2));
  });

  it('makes ops, inputs and learning rate matter', () => {
    const base = [6, 1, 1, 1, 2, 3, 1, 4, 4, 3];
    const f1 = (x: number[]): number => formulaF1(x, spec(x).f2);
    const variants = [
      [0, 1, 1, 1, 2, 3, 1, 4, 4, 3],
      [6, 1, 1, 0, 2, 3, 1, 4, 4, 3],
      [6, 1, 1, 1, 2, 3, 6, 4, 4, 3],
      [6, 1, 1, 1, 0, 3, 1, 4, 4, 3],
    ];
    for (const v of variants) expect(f1(v)).not.toBeCloseTo(f1(base), 6);
  });

  it('stays in the range of real f1 values and conflicts with size', () => {
    const rng = RandomStream.fromSeed(4);
    const evaluate = formulaEvaluator();
    let small = 0;
    let large = 0;
    for (let i = 0; i < 400; i++) {
      const s = spec(randomGenome(rng));
      const o = evaluate(s);
      expect(o.status).toBe('completed');
      const f1 = (o as { f1: number }).f1;
      expect(f1).toBeGreaterThan(0.05);
      expect(f1).toBeLessThan(1);
      if (s.genome.filters === 8 && s.genome.cells === 5) small += f1;
      if (s.genome.filters === 32 && s.genome.cells === 9) large += f1;
    }
    expect(large).toBeLessThan(small);
  });

  it('adds noise fixed per genotype', () => {
    const noisy = formulaEvaluator({ noise: 0.02, noiseSeed: 1, divergence: false });
    const clean = formulaEvaluator();
    const a = spec([6, 1, 1, 1, 2, 3, 1, 4, 4, 3]);
    const b = spec([5, 1, 1, 1, 2, 3, 1, 4, 4, 3]);
    expect(noisy(a)).toEqual(noisy(a));
    expect(noisy(a)).not.toEqual(clean(a));
    const da = (noisy(a) as { f1: number }).f1 - (clean(a) as { f1: number }).f1;
    const db = (noisy(b) as { f1: number }).f1 - (clean(b) as { f1: number }).f1;
    expect(da).not.toBeCloseTo(db, 6);
  });

  it('diverges large-lr 9-cell networks when asked, which the search records as a failure', () => {
    const evaluate = formulaEvaluator({ noise: 0, noiseSeed: 0, divergence: true });
    const outcome = sanitiseOutcome(evaluate(spec([0, 1, 0, 1, 2, 3, 1, 1, 1, 1])));
    expect(outcome).toMatchObject({ status: 'failed', code: 'diverged' });
    expect(evaluate(spec([0, 1, 1, 1, 2, 3, 1, 1, 1, 1])).status).toBe('completed');
  });
});
