import { describe, expect, it } from 'vitest';
import type { Vec3 } from '../../../core/io/volume.ts';
import { surfaceOf } from '../../../core/metrics/surface.ts';
import { percentile, surfaceDistances } from '../../../core/metrics/surface-distance.ts';
import { compareLabel, compareMasks } from '../../../core/metrics/label-metrics.ts';
import { RandomStream } from '../../../core/base/random.ts';
import { block, grid } from './helpers.ts';

const SHORT_AXIS: Vec3 = [1.5, 1.5, 10];

describe('surfaceOf', () => {
  it('keeps the face-connected border and drops interior voxels', () => {
    const g = grid([5, 5, 5], [1, 1, 1], block([1, 1, 1], [3, 3, 3]));
    const border = surfaceOf(g.data, g.shape);
    expect(border.reduce((a, b) => a + b, 0)).toBe(26);
    expect(border[2 + 5 * (2 + 5 * 2)]).toBe(0);
  });

  it('counts voxels on the edge of the image as border', () => {
    const g = grid([3, 3, 3], [1, 1, 1], block([0, 0, 0], [2, 2, 2]));
    expect(surfaceOf(g.data, g.shape).reduce((a, b) => a + b, 0)).toBe(26);
    const slab = grid([3, 3, 1], [1, 1, 1], block([0, 0, 0], [2, 2, 0]));
    expect(surfaceOf(slab.data, slab.shape).reduce((a, b) => a + b, 0)).toBe(9);
  });
});

describe('surface distances on hand-computed anisotropic examples (in-plane 1.5 mm, slices 10 mm)', () => {
  it('a structure one slice off is 10 mm away, not 1.5 mm', () => {
    const ref = grid([5, 5, 5], SHORT_AXIS, block([1, 1, 1], [3, 3, 1]));
    const pred = grid([5, 5, 5], SHORT_AXIS, block([1, 1, 2], [3, 3, 2]));
    const m = compareLabel(ref, pred, 1, { hd95: 'pooled', tau: 1.5 });
    expect(m.dice).toBe(0);
    expect(m.hd).toBeCloseTo(10, 12);
    expect(m.hd95).toBeCloseTo(10, 12);
    expect(m.assd).toBeCloseTo(10, 12);
    expect(m.nsd).toBe(0);
  });

  it('a structure one voxel off in-plane is 1.5 mm away', () => {
    const ref = grid([5, 5, 5], SHORT_AXIS, block([1, 1, 1], [3, 3, 1]));
    const pred = grid([5, 5, 5], SHORT_AXIS, block([2, 1, 1], [4, 3, 1]));
    const m = compareLabel(ref, pred, 1, { hd95: 'pooled', tau: 1 });
    // 6 + 6 overlapping surface voxels at 0 mm, 3 + 3 at 1.5 mm
    expect(m.dice).toBeCloseTo(12 / 18, 12);
    expect(m.hd).toBeCloseTo(1.5, 12);
    expect(m.hd95).toBeCloseTo(1.5, 12);
    expect(m.assd).toBeCloseTo(0.5, 12);
    expect(m.nsd).toBeCloseTo(12 / 18, 12);
  });

  it('measures between surfaces, so a reference voxel inside the prediction has a distance', () => {
    // Reference: 3×3×3 cube; prediction: the same cube one slice taller.
    const ref = grid([5, 5, 6], SHORT_AXIS, block([1, 1, 1], [3, 3, 3]));
    const pred = grid([5, 5, 6], SHORT_AXIS, block([1, 1, 1], [3, 3, 4]));
    const m = compareLabel(ref, pred, 1, { hd95: 'pooled', tau: 1.5 });
    // pred→ref: 25 at 0 mm, the 9 top voxels at 10 mm. ref→pred: 25 at 0 mm, the top centre at 1.5 mm
    // (it is inside the prediction; its nearest prediction surface voxel is one in-plane step away).
    expect(m.hd).toBeCloseTo(10, 12);
    expect(m.hd95).toBeCloseTo(10, 12);
    expect(m.assd).toBeCloseTo(91.5 / 60, 12);
    expect(m.nsd).toBeCloseTo(51 / 60, 12);
    expect(m.dice).toBeCloseTo(54 / 63, 12);
    expect(m.jaccard).toBeCloseTo(0.75, 12);
    expect(m.sensitivity).toBe(1);
    expect(m.precision).toBeCloseTo(0.75, 12);
    expect(m.volumeReference).toBeCloseTo(0.6075, 12);
    expect(m.volumePrediction).toBeCloseTo(0.81, 12);
    expect(m.arvd).toBeCloseTo(100 / 3, 10);
    expect(m.empty).toBe('none');
  });

  it('pooled and max-directed HD95 differ as their definitions say', () => {
    // Reference: a row of 10 voxels; prediction: the row plus one voxel in the next slice.
    const row = block([0, 0, 0], [9, 0, 0]);
    const ref = grid([12, 1, 2], SHORT_AXIS, row);
    const pred = grid([12, 1, 2], SHORT_AXIS, [...row, [0, 0, 1]]);
    const pooled = compareLabel(ref, pred, 1, { hd95: 'pooled', tau: 1.5 });
    // 21 pooled distances: twenty 0 and one 10; rank 0.95·20 = 19 → 0.
    expect(pooled.hd).toBeCloseTo(10, 12);
    expect(pooled.hd95).toBe(0);
    expect(pooled.assd).toBeCloseTo(10 / 21, 12);
    expect(pooled.nsd).toBeCloseTo(20 / 21, 12);
    // pred→ref has 11 values, ten 0 and one 10: rank 9.5 → 5; ref→pred is all 0.
    const directed = compareLabel(ref, pred, 1, { hd95: 'max-directed', tau: 1.5 });
    expect(directed.hd95).toBeCloseTo(5, 12);
  });

  it('interpolates percentiles linearly between ranks, as numpy does', () => {
    const sorted = Float64Array.from([0, 1, 2, 3, 4, 5, 6, 7, 8, 10]);
    expect(percentile(sorted, 95)).toBeCloseTo(9.1, 12);
    expect(percentile(sorted, 50)).toBeCloseTo(4.5, 12);
    expect(percentile(Float64Array.from([3]), 95)).toBe(3);
  });

  it('gives the same distances on the bounding box as brute force on the whole grid', () => {
    const random = RandomStream.fromSeed(3, 'surface');
    for (let trial = 0; trial < 15; trial++) {
      const shape: Vec3 = [9, 8, 7];
      const spacing: Vec3 = [0.4 + random.next(), 0.4 + random.next(), 1 + random.next() * 9];
      const a = new Uint8Array(9 * 8 * 7);
      const b = new Uint8Array(9 * 8 * 7);
      // Blobs that touch the image edge on some trials.
      for (const mask of [a, b]) {
        const centre: Vec3 = [random.int(9), random.int(8), random.int(7)];
        const radius = 1 + random.next() * 3;
        for (let k = 0, n = 0; k < 7; k++)
          for (let j = 0; j < 8; j++)
            for (let i = 0; i < 9; i++, n++) {
              const r = Math.hypot(i - centre[0], j - centre[1], (k - centre[2]) * 1.5);
              if (r <= radius || random.next() < 0.02) mask[n] = 1;
            }
      }
      const ours = surfaceDistances(a, b, shape, spacing);
      const expected = bruteForceDistances(a, b, shape, spacing);
      expect(ours.aToB.length).toBe(expected.aToB.length);
      expect(ours.bToA.length).toBe(expected.bToA.length);
      ours.aToB.forEach((d, n) => expect(d).toBeCloseTo(expected.aToB[n]!, 9));
      ours.bToA.forEach((d, n) => expect(d).toBeCloseTo(expected.bToA[n]!, 9));
    }
  });
});

describe('empty masks', () => {
  const shape: Vec3 = [5, 5, 5];
  const diagonal = Math.hypot(7.5, 7.5, 50);

  function expectAllFinite(m: object): void {
    const numbers = Object.entries(m).filter(([, value]) => typeof value === 'number');
    expect(numbers.length).toBeGreaterThan(0);
    for (const [key, value] of numbers) expect(Number.isFinite(value), key).toBe(true);
  }

  it('both empty: Dice 1, distances 0, surface Dice 1', () => {
    const m = compareMasks(new Uint8Array(125), new Uint8Array(125), { shape, spacing: SHORT_AXIS });
    expect(m).toMatchObject({ dice: 1, jaccard: 1, hd: 0, hd95: 0, assd: 0, nsd: 1, arvd: 0, empty: 'both' });
    expectAllFinite(m);
  });

  it('missed structure: Dice 0, distances the physical diagonal, surface Dice 0', () => {
    const ref = grid(shape, SHORT_AXIS, block([1, 1, 1], [2, 2, 2]));
    const m = compareLabel(ref, grid(shape, SHORT_AXIS), 1);
    expect(m).toMatchObject({
      dice: 0,
      sensitivity: 0,
      precision: 0,
      nsd: 0,
      arvd: 100,
      empty: 'prediction',
    });
    expect(m.hd).toBeCloseTo(diagonal, 12);
    expect(m.hd95).toBeCloseTo(diagonal, 12);
    expect(m.assd).toBeCloseTo(diagonal, 12);
    expectAllFinite(m);
  });

  it('structure predicted where there is none: Dice 0, distances the diagonal, aRVD from one voxel', () => {
    const pred = grid(shape, SHORT_AXIS, block([1, 1, 1], [2, 2, 2]));
    const m = compareLabel(grid(shape, SHORT_AXIS), pred, 1);
    expect(m).toMatchObject({ dice: 0, sensitivity: 0, precision: 0, nsd: 0, arvd: 800, empty: 'reference' });
    expect(m.hd).toBeCloseTo(diagonal, 12);
    expectAllFinite(m);
  });

  it('a missed structure scores worse than a found one at the far corner', () => {
    const ref = grid(shape, SHORT_AXIS, [[0, 0, 0]]);
    const far = compareLabel(ref, grid(shape, SHORT_AXIS, [[4, 4, 4]]), 1);
    const missed = compareLabel(ref, grid(shape, SHORT_AXIS), 1);
    expect(missed.hd).toBeGreaterThan(far.hd);
    expect(missed.hd95).toBeGreaterThan(far.hd95);
  });
});

function bruteForceDistances(a: Uint8Array, b: Uint8Array, shape: Vec3, spacing: Vec3) {
  const [nx, ny, nz] = shape;
  const inside = (m: Uint8Array, i: number, j: number, k: number) =>
    i >= 0 && j >= 0 && k >= 0 && i < nx && j < ny && k < nz && m[i + nx * (j + ny * k)] === 1;
  const border = (m: Uint8Array): Vec3[] => {
    const out: Vec3[] = [];
    for (let k = 0; k < nz; k++)
      for (let j = 0; j < ny; j++)
        for (let i = 0; i < nx; i++) {
          if (!inside(m, i, j, k)) continue;
          const faces: Vec3[] = [
            [i - 1, j, k],
            [i + 1, j, k],
            [i, j - 1, k],
            [i, j + 1, k],
            [i, j, k - 1],
            [i, j, k + 1],
          ];
          if (faces.some(([x, y, z]) => !inside(m, x, y, z))) out.push([i, j, k]);
        }
    return out;
  };
  const directed = (from: Vec3[], to: Vec3[]) =>
    Float64Array.from(
      from.map(([i, j, k]) =>
        Math.min(
          ...to.map(([x, y, z]) =>
            Math.hypot((i - x) * spacing[0], (j - y) * spacing[1], (k - z) * spacing[2]),
          ),
        ),
      ),
    );
  const ba = border(a);
  const bb = border(b);
  return { aToB: directed(ba, bb), bToA: directed(bb, ba) };
}
