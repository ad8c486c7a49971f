import { describe, expect, it } from 'vitest';
import { fromGrid, toGrid, type Shape3 } from '../../../core/datasets/pipeline/grid.ts';
import { resampleLinear, resampleNearest } from '../../../core/datasets/pipeline/resample.ts';
import { intensityStats, zScoreInPlace } from '../../../core/datasets/pipeline/normalise.ts';

function volumeIndex(shape: Shape3, i: number, j: number, k: number): number {
  return i + shape[0] * (j + shape[1] * k);
}

describe('network grid', () => {
  it('puts the chosen volume axis last (fastest) and back again', () => {
    const shape: Shape3 = [3, 4, 5];
    const data = new Float32Array(60).map((_, n) => n);
    const grid = toGrid(data, shape, [2, 0, 1], new Float32Array(60));
    expect(grid.shape).toEqual([5, 3, 4]);
    // grid (a, b, c) = volume (i = b, j = c, k = a)
    expect(grid.data[(4 * 3 + 2) * 4 + 1]).toBe(data[volumeIndex(shape, 2, 1, 4)]);
    const back = fromGrid(grid, [2, 0, 1], new Float32Array(60));
    expect(back.shape).toEqual(shape);
    expect(Array.from(back.data)).toEqual(Array.from(data));
  });
});

describe('resampling', () => {
  it('reproduces a linear ramp exactly inside the field of view', () => {
    const grid = { data: new Float32Array(8 * 2 * 2), shape: [8, 2, 2] as Shape3 };
    for (let a = 0; a < 8; a++) for (let r = 0; r < 4; r++) grid.data[a * 4 + r] = 3 * a + 1;
    const up = resampleLinear(grid, [16, 2, 2]);
    expect(up.shape).toEqual([16, 2, 2]);
    for (let x = 1; x < 15; x++) {
      const source = ((x + 0.5) * 8) / 16 - 0.5;
      expect(up.data[x * 4]).toBeCloseTo(3 * source + 1, 5);
    }
    // Borders clamp to the edge voxel rather than extrapolating.
    expect(up.data[0]).toBeCloseTo(1, 6);
    const down = resampleLinear(up, [8, 2, 2]);
    for (let a = 1; a < 7; a++) expect(down.data[a * 4]).toBeCloseTo(3 * a + 1, 4);
  });

  it('keeps label maps hard with nearest neighbour', () => {
    const grid = { data: new Uint8Array(6 * 6 * 3), shape: [6, 6, 3] as Shape3 };
    for (let n = 0; n < grid.data.length; n++) grid.data[n] = n % 3 === 0 ? 2 : n % 5 === 0 ? 1 : 0;
    const out = resampleNearest(grid, [13, 7, 3]);
    expect(new Set(out.data)).toEqual(new Set([0, 1, 2]));
    const same = resampleNearest(grid, [6, 6, 3]);
    expect(Array.from(same.data)).toEqual(Array.from(grid.data));
    const twice = resampleNearest(resampleNearest(grid, [12, 12, 3]), [6, 6, 3]);
    expect(Array.from(twice.data)).toEqual(Array.from(grid.data));
  });
});

describe('z-score', () => {
  it('gives mean 0 and standard deviation 1', () => {
    const data = new Float32Array(1000).map((_, i) => 100 + (i % 17) * 3);
    zScoreInPlace(data);
    const s = intensityStats(data);
    expect(s.mean).toBeCloseTo(0, 5);
    expect(s.std).toBeCloseTo(1, 5);
  });

  it('only centres a constant image instead of dividing by zero', () => {
    const data = new Float32Array(10).fill(7);
    zScoreInPlace(data);
    expect(Array.from(data)).toEqual(new Array(10).fill(0));
  });
});
