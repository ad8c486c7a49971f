import { describe, expect, it } from 'vitest';
import type { Point2 } from '../../../core/search/decomposition.ts';
import { chooseInfill, isPromising } from '../../../core/search/screening.ts';

describe('surrogate screening', () => {
  const weights: Point2[] = [
    [0.5, 0.5],
    [0.75, 0.25],
    [1, 0],
  ];
  const incumbents: Point2[] = [
    [0.3, 0.3],
    [0.25, 0.5],
    [0.2, 0.9],
  ];
  const at = (m: number): Point2 => incumbents[m] as Point2;

  it('trains a child that beats some neighbour incumbent under that neighbour’s weight', () => {
    // Only slot 2 (w = (1, 0)) prefers it: f1 0.19 < 0.2.
    expect(isPromising([0.19, 0.95], [1, 2], at, weights, 0.001)).toBe(true);
    expect(isPromising([0.19, 0.95], [0, 1], at, weights, 0.001)).toBe(false);
  });

  it('counts a tie as promising (<=)', () => {
    expect(isPromising([0.3, 0.3], [0], at, weights, 0.001)).toBe(true);
  });

  it('defers a child worse than every neighbour incumbent', () => {
    expect(isPromising([0.6, 0.6], [0, 1, 2], at, weights, 0.001)).toBe(false);
  });
});

describe('end-of-generation infill', () => {
  const front: Point2[] = [
    [0.2, 0.8],
    [0.6, 0.1],
  ];

  it('trains the deferred on the pooled front, then the lowest mean, then the highest std', () => {
    const deferred = [
      { mean: 0.5, std: 0.01, f2Norm: 0.5 },
      { mean: 0.7, std: 0.2, f2Norm: 0.6 },
      { mean: 0.65, std: 0.05, f2Norm: 0.9 },
      { mean: 0.9, std: 0.3, f2Norm: 0.95 },
    ];
    expect(chooseInfill(front, deferred)).toEqual([0, 2, 3]);
  });

  it('orders several front picks by predicted f1 and still adds mean and std picks', () => {
    const deferred = [
      { mean: 0.4, std: 0.1, f2Norm: 0.3 },
      { mean: 0.1, std: 0.1, f2Norm: 0.95 },
      { mean: 0.8, std: 0.05, f2Norm: 0.9 },
      { mean: 0.95, std: 0.02, f2Norm: 0.9 },
    ];
    expect(chooseInfill(front, deferred)).toEqual([1, 0, 2, 3]);
  });

  it('handles one and no deferred candidates', () => {
    expect(chooseInfill(front, [{ mean: 0.9, std: 0, f2Norm: 0.9 }])).toEqual([0]);
    expect(chooseInfill(front, [])).toEqual([]);
  });
});
