import { describe, expect, it } from 'vitest';
import { RandomStream } from '../../../core/base/random.ts';
import { worldPosition } from '../../../core/io/geometry.ts';
import { canonicalTransform, fromCanonical, toCanonical } from '../../../core/io/orientation.ts';
import type { Mat3, Vec3, Volume } from '../../../core/io/volume.ts';
import { thrown } from './helpers.ts';

const SHAPE: Vec3 = [5, 6, 7];

/** A uniformly random rotation (from a random unit quaternion), optionally with one axis flipped. */
function randomDirection(random: RandomStream, flipAxis?: number): Mat3 {
  const q = [random.normal(), random.normal(), random.normal(), random.normal()];
  const n = Math.hypot(...q);
  const [a, b, c, d] = q.map((v) => v / n) as [number, number, number, number];
  const m: Mat3 = [
    a * a + b * b - c * c - d * d,
    2 * (b * c - a * d),
    2 * (b * d + a * c),
    2 * (b * c + a * d),
    a * a + c * c - b * b - d * d,
    2 * (c * d - a * b),
    2 * (b * d - a * c),
    2 * (c * d + a * b),
    a * a + d * d - c * c - b * b,
  ];
  if (flipAxis !== undefined) for (let r = 0; r < 3; r++) m[r * 3 + flipAxis] = -m[r * 3 + flipAxis]!;
  return m;
}

/** Voxel values are their own source index, so a reoriented voxel tells where it came from. */
function indexedVolume(direction: Mat3): Volume {
  return {
    data: Float64Array.from({ length: SHAPE[0] * SHAPE[1] * SHAPE[2] }, (_, i) => i),
    shape: [...SHAPE],
    spacing: [0.5, 1.25, 2],
    origin: [10, -20, 30.5],
    direction,
    dataType: 'float64',
  };
}

function ijkOf(index: number, shape: Vec3): Vec3 {
  return [
    index % shape[0],
    Math.floor(index / shape[0]) % shape[1],
    Math.floor(index / (shape[0] * shape[1])),
  ];
}

const random = RandomStream.fromSeed(11, 'orientation');
const DIRECTIONS: [string, Mat3][] = [
  ['identity', [1, 0, 0, 0, 1, 0, 0, 0, 1]],
  ['RAS identity seen in LPS', [-1, 0, 0, 0, -1, 0, 0, 0, 1]],
  ['second axis flipped only (rows copied whole)', [1, 0, 0, 0, -1, 0, 0, 0, 1]],
  ['permuted and flipped (i -> -z, j -> x, k -> -y)', [0, 1, 0, 0, 0, -1, -1, 0, 0]],
  ['sagittal (i -> y, j -> -z, k -> x)', [0, 0, 1, 1, 0, 0, 0, -1, 0]],
  ...Array.from(
    { length: 6 },
    (_, n) => [`oblique ${n}`, randomDirection(random, n % 2 ? n % 3 : undefined)] as [string, Mat3],
  ),
];

describe('canonical orientation', () => {
  for (const [name, direction] of DIRECTIONS) {
    it(`keeps every voxel at its world position and maps back exactly: ${name}`, () => {
      const source = indexedVolume(direction);
      const { volume: canonical, transform } = toCanonical(source);
      for (let a = 0; a < 3; a++) expect(canonical.direction[a * 4]).toBeGreaterThan(0);
      // No other axis permutation puts more weight on the diagonal.
      const score = (d: Mat3, p: number[]) => p.reduce((sum, c, r) => sum + Math.abs(d[r * 3 + c]!), 0);
      const chosen = score(source.direction, transform.permutation);
      for (const p of [
        [0, 1, 2],
        [0, 2, 1],
        [1, 0, 2],
        [1, 2, 0],
        [2, 0, 1],
        [2, 1, 0],
      ]) {
        expect(chosen).toBeGreaterThanOrEqual(score(source.direction, p) - 1e-12);
      }
      for (let n = 0; n < canonical.data.length; n++) {
        const from = canonical.data[n]!;
        const here = worldPosition(canonical, ijkOf(n, canonical.shape));
        const there = worldPosition(source, ijkOf(from, source.shape));
        here.forEach((v, r) => expect(v).toBeCloseTo(there[r]!, 9));
      }
      const back = fromCanonical(canonical, JSON.parse(JSON.stringify(transform)));
      expect(back).toEqual(source);
    });
  }

  it('turns axis-aligned grids into exactly the identity direction', () => {
    for (const [, direction] of DIRECTIONS.slice(0, 5)) {
      expect(toCanonical(indexedVolume(direction)).volume.direction).toEqual([1, 0, 0, 0, 1, 0, 0, 0, 1]);
    }
  });

  it('moves the origin to the far corner of a flipped axis (a 1 mm RAS grid seen in LPS)', () => {
    const t = canonicalTransform({
      shape: [34, 52, 35],
      spacing: [1, 1, 1],
      origin: [-1, -1, 1],
      direction: [-1, 0, 0, 0, -1, 0, 0, 0, 1],
    });
    expect(t.permutation).toEqual([0, 1, 2]);
    expect(t.flips).toEqual([true, true, false]);
    const { volume } = toCanonical({ ...indexedVolume([-1, 0, 0, 0, -1, 0, 0, 0, 1]) });
    expect(volume.origin).toEqual([10 - 0.5 * 4, -20 - 1.25 * 5, 30.5]);
  });

  it('maps a prediction of another voxel type made on the canonical grid back onto the source grid', () => {
    const source = indexedVolume([0, 1, 0, 0, 0, -1, -1, 0, 0]);
    const { volume: canonical, transform } = toCanonical(source);
    const prediction: Volume = {
      ...canonical,
      data: Uint8Array.from(canonical.data, (v) => v % 3),
      dataType: 'uint8',
    };
    const back = fromCanonical(prediction, transform);
    expect(back.dataType).toBe('uint8');
    expect(back.shape).toEqual(source.shape);
    expect(Array.from(back.data)).toEqual(Array.from(source.data, (v) => v % 3));
  });

  it('refuses a volume whose shape is not the canonical grid', () => {
    const { volume, transform } = toCanonical(indexedVolume([0, 1, 0, 0, 0, -1, -1, 0, 0]));
    const err = thrown(() => fromCanonical({ ...volume, shape: [...SHAPE] }, transform));
    expect(err.code).toBe('geometry_mismatch');
    expect(err.message).toContain('5×6×7');
  });
});
