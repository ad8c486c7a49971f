import { describe, expect, it } from 'vitest';
import { mutationRate, neighbourhoods, pbi, weightVectors } from '../../../core/search/decomposition.ts';

describe('weight vectors and neighbourhoods', () => {
  it('reproduces the reference weights: w1 from 0.5 to 1 in nine steps', () => {
    const w = weightVectors(10, 0.5, 1);
    const expected = [0.5, 0.5556, 0.6111, 0.6667, 0.7222, 0.7778, 0.8333, 0.8889, 0.9444, 1];
    w.forEach(([w1, w2], i) => {
      expect(w1).toBeCloseTo(expected[i] as number, 4);
      expect(w1 + w2).toBeCloseTo(1, 12);
    });
  });

  it('takes the T nearest weight vectors, itself included', () => {
    const hood = neighbourhoods(weightVectors(10, 0.5, 1), 3);
    expect(hood[0]).toEqual([0, 1, 2]);
    expect(hood[1]).toEqual([0, 1, 2]);
    expect(hood[5]).toEqual([4, 5, 6]);
    expect(hood[9]).toEqual([7, 8, 9]);
    expect(neighbourhoods(weightVectors(6, 0, 1), 5)[0]).toEqual([0, 1, 2, 3, 4]);
  });
});

describe('PBI', () => {
  it('matches hand computations', () => {
    // w = (1, 0): d1 = 0.3, d2 = 0.4.
    expect(pbi([0.3, 0.4], [1, 0], 5)).toBeCloseTo(0.3 + 5 * 0.4, 12);
    // w = (0.5, 0.5): d1 = 0.35 / 0.70711 = 0.49497, projection (0.35, 0.35), d2 = 0.070711.
    expect(pbi([0.3, 0.4], [0.5, 0.5], 5)).toBeCloseTo(0.49497 + 5 * 0.070711, 4);
    expect(pbi([0.3, 0.4], [0.5, 0.5], 0.001)).toBeCloseTo(0.49497 + 0.001 * 0.070711, 4);
  });

  it('is about a weighted sum with the reference theta 0.001', () => {
    const w: [number, number] = [0.7, 0.3];
    const norm = Math.hypot(0.7, 0.3);
    expect(pbi([0.2, 0.6], w, 0.001)).toBeCloseTo((0.7 * 0.2 + 0.3 * 0.6) / norm, 3);
  });
});

describe('mutation rate schedule', () => {
  it('has the values listed in method.md section 4.4', () => {
    const rate = (g: number): number => mutationRate(g, 40, 1, 0.1);
    const listed: [number, number][] = [
      [1, 0.812],
      [2, 0.702],
      [3, 0.624],
      [5, 0.514],
      [10, 0.35],
      [11, 0.326],
      [15, 0.248],
      [20, 0.175],
      [25, 0.117],
    ];
    for (const [g, value] of listed) expect(rate(g)).toBeCloseTo(value, 3);
    expect(rate(26)).toBeGreaterThan(0.1);
    for (const g of [27, 30, 39]) expect(rate(g)).toBe(0.1);
  });
});
