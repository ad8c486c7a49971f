import { describe, expect, it } from 'vitest';
import { overlapCounts, overlapMetrics } from '../../../core/metrics/overlap.ts';
import { pearson, summarise, summariseStructures } from '../../../core/metrics/aggregate.ts';
import { compareLabels } from '../../../core/metrics/label-metrics.ts';
import { block, grid, paint } from './helpers.ts';

describe('overlap metrics', () => {
  it('computes Dice, Jaccard, sensitivity, precision, volumes and aRVD from counts', () => {
    const m = overlapMetrics({ reference: 8, prediction: 12, both: 6 }, 2.5);
    expect(m.dice).toBeCloseTo(12 / 20, 12);
    expect(m.jaccard).toBeCloseTo(6 / 14, 12);
    expect(m.sensitivity).toBeCloseTo(6 / 8, 12);
    expect(m.precision).toBeCloseTo(6 / 12, 12);
    expect(m.volumeReference).toBeCloseTo(0.02, 12);
    expect(m.volumePrediction).toBeCloseTo(0.03, 12);
    expect(m.arvd).toBeCloseTo(50, 12);
  });

  it('counts voxels of two masks', () => {
    const a = Uint8Array.from([1, 1, 0, 1, 0]);
    const b = Uint8Array.from([1, 0, 0, 1, 1]);
    expect(overlapCounts(a, b)).toEqual({ reference: 3, prediction: 3, both: 2 });
  });

  it('keeps labels apart in a multi-label map', () => {
    const ref = grid([6, 4, 3], [1, 1, 2], block([0, 0, 0], [1, 1, 0]), 1);
    for (const v of block([3, 0, 0], [4, 1, 0])) paint(ref.data, ref.shape, v, 2);
    const pred = grid([6, 4, 3], [1, 1, 2], block([0, 0, 0], [1, 1, 0]), 1);
    for (const v of block([3, 0, 1], [4, 1, 1])) paint(pred.data, pred.shape, v, 2);
    const m = compareLabels(ref, pred, [1, 2, 3]);
    expect(m.get(1)).toMatchObject({ dice: 1, hd: 0 });
    expect(m.get(2)!.dice).toBe(0);
    expect(m.get(2)!.hd).toBeCloseTo(2, 12);
    expect(m.get(3)).toMatchObject({ dice: 1, hd: 0, empty: 'both' });
  });
});

describe('summaries', () => {
  it('gives mean, sample standard deviation and median', () => {
    const s = summarise([1, 2, 3, 10]);
    expect(s.mean).toBe(4);
    expect(s.median).toBe(2.5);
    expect(s.std).toBeCloseTo(Math.sqrt(50 / 3), 12);
    expect(s.n).toBe(4);
    expect(summarise([5, 1, 3]).median).toBe(3);
  });

  it('never gives NaN for no case or one case', () => {
    expect(summarise([])).toEqual({ mean: 0, std: 0, median: 0, n: 0 });
    expect(summarise([2])).toEqual({ mean: 2, std: 0, median: 2, n: 1 });
    expect(pearson([1], [2])).toBeNull();
    expect(pearson([1, 1, 1], [1, 2, 3])).toBeNull();
    expect(pearson([1, 2, 3], [2, 4, 7])).toBeCloseTo(0.9933992677987828, 12);
  });

  it('summarises every metric per structure over the cases', () => {
    const ref = grid([4, 4, 4], [1, 1, 1], block([1, 1, 1], [2, 2, 2]));
    const good = compareLabels(ref, ref, [1]).get(1)!;
    const missed = compareLabels(ref, grid([4, 4, 4], [1, 1, 1]), [1]).get(1)!;
    const table = summariseStructures(
      [
        { id: 'a', structures: { Anterior: good } },
        { id: 'b', structures: { Anterior: missed } },
      ],
      ['Anterior'],
    );
    expect(table.Anterior!.dice).toMatchObject({ mean: 0.5, median: 0.5, n: 2 });
    expect(table.Anterior!.hd.mean).toBeCloseTo(missed.hd / 2, 12);
  });
});
