import { describe, expect, it } from 'vitest';
import { connectedComponents, largestComponent } from '../../../core/metrics/components.ts';
import {
  applyPostprocessing,
  decideLargestComponent,
  keepLargestComponentPerLabel,
} from '../../../core/metrics/postprocessing.ts';
import { block, grid, paint } from './helpers.ts';

describe('connected components', () => {
  it('joins voxels touching at a corner with 26-connectivity only', () => {
    const g = grid(
      [4, 4, 4],
      [1, 1, 1],
      [
        [0, 0, 0],
        [1, 1, 1],
      ],
    );
    expect(connectedComponents(g.data, g.shape, 6).sizes).toEqual([1, 1]);
    expect(connectedComponents(g.data, g.shape, 26).sizes).toEqual([2]);
  });

  it('keeps the largest component, and every component tied for largest', () => {
    const g = grid([8, 3, 3], [1, 1, 1], [...block([0, 0, 0], [1, 1, 0]), [5, 0, 0], [7, 2, 2]]);
    const kept = largestComponent(g.data, g.shape, 26);
    expect(kept.reduce((a, b) => a + b, 0)).toBe(4);
    const tie = grid(
      [8, 1, 1],
      [1, 1, 1],
      [
        [0, 0, 0],
        [4, 0, 0],
      ],
    );
    expect(largestComponent(tie.data, tie.shape, 6).reduce((a, b) => a + b, 0)).toBe(2);
  });

  it('filters each label on its own and leaves the others alone', () => {
    const g = grid([10, 2, 2], [1, 1, 1], [...block([0, 0, 0], [2, 1, 1]), [6, 0, 0]], 1);
    for (const v of [...block([8, 0, 0], [9, 1, 1]), [4, 0, 0] as const]) paint(g.data, g.shape, [...v], 2);
    const out = keepLargestComponentPerLabel(g.data, g.shape, [1], 26);
    expect(out[6]).toBe(0);
    expect(out[4]).toBe(2);
    expect(out.filter((v) => v === 1)).toHaveLength(12);
  });
});

describe('deciding post-processing on validation cases', () => {
  const shape = [12, 3, 3] as [number, number, number];

  it('keeps only the largest component where that raises mean Dice, per label', () => {
    // Label 1: the predictions carry a stray voxel (removing it helps).
    // Label 2: the reference itself has two parts, so removing the smaller predicted part hurts.
    const cases = [0, 1].map(() => {
      const ref = grid(shape, [1, 1, 1], block([0, 0, 0], [2, 2, 2]), 1);
      for (const v of [...block([6, 0, 0], [8, 2, 2]), ...block([11, 0, 0], [11, 0, 0])]) {
        paint(ref.data, shape, v, 2);
      }
      const pred = grid(shape, [1, 1, 1], [...block([0, 0, 0], [2, 2, 2]), [4, 2, 2]], 1);
      for (const v of [...block([6, 0, 0], [8, 2, 2]), ...block([11, 0, 0], [11, 0, 0])]) {
        paint(pred.data, shape, v, 2);
      }
      return { reference: ref, prediction: pred };
    });
    const decision = decideLargestComponent(cases, [1, 2], 26);
    const [one, two] = decision.labels;
    expect(one).toMatchObject({ label: 1, meanDiceAfter: 1, apply: true });
    expect(one!.meanDiceBefore).toBeCloseTo(54 / 55, 12);
    expect(two).toMatchObject({ label: 2, meanDiceBefore: 1, apply: false });
    expect(two!.meanDiceAfter).toBeLessThan(1);
    const cleaned = applyPostprocessing(cases[0]!.prediction.data, shape, decision);
    expect(cleaned[4 + 12 * (2 + 3 * 2)]).toBe(0);
    expect(cleaned[11]).toBe(2);
  });
});
