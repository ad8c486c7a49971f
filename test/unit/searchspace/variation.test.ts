import { describe, expect, it } from 'vitest';
import { RandomStream } from '../../../core/base/random.ts';
import { uniformProbabilities } from '../../../core/searchspace/probabilities.ts';
import {
  mutate,
  redrawDifferent,
  repairOutOfMemory,
  uniformCrossover,
} from '../../../core/searchspace/variation.ts';

const A = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
const B = [18, 2, 2, 1, 2, 3, 9, 9, 9, 9];

describe('uniform crossover', () => {
  it('takes each gene from one parent, about half from each', () => {
    const rng = RandomStream.fromSeed(1);
    let fromA = 0;
    let foreign = 0;
    for (let i = 0; i < 1000; i++) {
      uniformCrossover(A, B, rng).forEach((v, gene) => {
        if (v === A[gene]) fromA++;
        else if (v !== B[gene]) foreign++;
      });
    }
    expect(foreign).toBe(0);
    expect(fromA / 10000).toBeGreaterThan(0.47);
    expect(fromA / 10000).toBeLessThan(0.53);
  });
});

describe('mutation', () => {
  it('leaves the genome alone at rate 0 and changes every gene at rate 1', () => {
    const rng = RandomStream.fromSeed(2);
    const p = uniformProbabilities();
    expect(mutate(B, 0, p, rng)).toEqual(B);
    const all = mutate(B, 1, p, rng);
    expect(all).toHaveLength(B.length);
    all.forEach((v, gene) => expect(v).not.toBe(B[gene]));
  });

  it('mutates each gene with the given probability', () => {
    const rng = RandomStream.fromSeed(3);
    const p = uniformProbabilities();
    let changed = 0;
    for (let i = 0; i < 2000; i++) changed += mutate(A, 0.3, p, rng).filter((v, g) => v !== A[g]).length;
    expect(changed / 20000).toBeCloseTo(0.3, 1);
  });

  it('redraws from the probability vector until the value differs', () => {
    const rng = RandomStream.fromSeed(4);
    const counts = [0, 0, 0, 0];
    for (let i = 0; i < 4000; i++) counts[redrawDifferent(0, [0.5, 0, 0.25, 0.25], rng)]!++;
    expect(counts[0]).toBe(0);
    expect(counts[1]).toBe(0);
    expect(counts[2]! / 4000).toBeCloseTo(0.5, 1);
  });
});

describe('out-of-memory repair', () => {
  it('redraws ops beyond the first seven from the 7-op probabilities, only with 32 filters and 9 cells', () => {
    const rng = RandomStream.fromSeed(5);
    const p = uniformProbabilities();
    p.restrictedOps[1] = [0, 0, 0, 0, 0, 1, 0];
    const repaired = repairOutOfMemory([3, 0, 0, 0, 0, 0, 2, 9, 7, 6], p, rng);
    expect(repaired[6]).toBe(2);
    expect(repaired[7]).toBe(5);
    expect(repaired[8]).toBeLessThan(7);
    expect(repaired[9]).toBe(6);
    expect(repairOutOfMemory([3, 1, 0, 0, 0, 0, 9, 9, 9, 9], p, rng)).toEqual([3, 1, 0, 0, 0, 0, 9, 9, 9, 9]);
  });
});
