import { describe, expect, it } from 'vitest';
import type { Point2 } from '../../../core/search/decomposition.ts';
import { kendallTau } from '../../../core/search/kendall.ts';
import {
  crowdingDistances,
  hypervolume2d,
  nonDominated2d,
  nonDominatedFronts,
  selectBestN,
} from '../../../core/search/pareto.ts';

const P: Point2[] = [
  [0.2, 0.8],
  [0.3, 0.5],
  [0.3, 0.5],
  [0.5, 0.5],
  [0.4, 0.6],
  [0.6, 0.1],
  [0.9, 0.1],
  [0.1, 0.9],
];

describe('Pareto fronts', () => {
  it('finds the first front sorted by f1, keeping exact duplicates', () => {
    expect(nonDominated2d(P)).toEqual([7, 0, 1, 2, 5]);
  });

  it('breaks f1 ties on f2 and drops the tie with the larger f2', () => {
    expect(
      nonDominated2d([
        [0.3, 0.6],
        [0.3, 0.5],
        [0.2, 0.9],
      ]),
    ).toEqual([2, 1]);
  });

  it('peels successive fronts', () => {
    expect(nonDominatedFronts(P)).toEqual([
      [7, 0, 1, 2, 5],
      [4, 3, 6],
    ]);
  });

  it('computes crowding distances, infinite at the boundaries', () => {
    const d = crowdingDistances(P, [4, 3, 6]);
    expect(d.get(4)).toBe(Infinity);
    expect(d.get(6)).toBe(Infinity);
    expect(d.get(3)).toBeCloseTo(2, 12);
  });

  it('selects the best N in NSGA-II order', () => {
    expect(selectBestN(P, 5)).toEqual([7, 0, 1, 2, 5]);
    expect(selectBestN(P, 6)).toEqual([7, 0, 1, 2, 5, 4]);
    expect(selectBestN(P, 7)).toEqual([7, 0, 1, 2, 5, 4, 6]);
    expect(selectBestN(P, 20)).toHaveLength(8);
  });
});

describe('hypervolume', () => {
  it('matches hand examples', () => {
    // Rectangles [0.2,1]x[0.8,1] (0.16) and [0.6,1]x[0.1,1] (0.36) overlap on 0.08.
    expect(
      hypervolume2d(
        [
          [0.2, 0.8],
          [0.6, 0.1],
        ],
        [1, 1],
      ),
    ).toBeCloseTo(0.44, 12);
    expect(hypervolume2d([[0.5, 0.5]], [1.1, 1.1])).toBeCloseTo(0.36, 12);
    expect(hypervolume2d([], [1.1, 1.1])).toBe(0);
  });

  it('ignores dominated points and points beyond the reference point', () => {
    const base = hypervolume2d(
      [
        [0.2, 0.8],
        [0.6, 0.1],
      ],
      [1, 1],
    );
    expect(
      hypervolume2d(
        [
          [0.2, 0.8],
          [0.6, 0.1],
          [0.7, 0.9],
          [1.2, 0],
          [0.6, 0.1],
        ],
        [1, 1],
      ),
    ).toBeCloseTo(base, 12);
  });
});

describe("Kendall's tau", () => {
  it('matches hand examples, ties included', () => {
    expect(kendallTau([1, 2, 3, 4], [10, 20, 30, 40])).toBe(1);
    expect(kendallTau([1, 2, 3, 4], [4, 3, 2, 1])).toBe(-1);
    // scipy.stats.kendalltau([1,2,2,3],[1,3,2,4]) = 0.9128709 (tau-b).
    expect(kendallTau([1, 2, 2, 3], [1, 3, 2, 4])).toBeCloseTo(0.9128709, 6);
    expect(kendallTau([1], [2])).toBeNull();
    expect(kendallTau([1, 1], [2, 2])).toBeNull();
  });
});
