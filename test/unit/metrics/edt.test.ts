import { describe, expect, it } from 'vitest';
import type { Vec3 } from '../../../core/io/volume.ts';
import { squaredDistanceTransform } from '../../../core/metrics/edt.ts';
import { RandomStream } from '../../../core/base/random.ts';

function bruteForce(features: Uint8Array, shape: Vec3, spacing: Vec3): Float64Array {
  const [nx, ny, nz] = shape;
  const points: Vec3[] = [];
  for (let n = 0; n < features.length; n++) {
    if (features[n]) points.push([n % nx, Math.floor(n / nx) % ny, Math.floor(n / (nx * ny))]);
  }
  const out = new Float64Array(features.length);
  for (let k = 0, n = 0; k < nz; k++)
    for (let j = 0; j < ny; j++)
      for (let i = 0; i < nx; i++, n++) {
        let best = Infinity;
        for (const [a, b, c] of points) {
          const d = ((i - a) * spacing[0]) ** 2 + ((j - b) * spacing[1]) ** 2 + ((k - c) * spacing[2]) ** 2;
          if (d < best) best = d;
        }
        out[n] = best;
      }
  return out;
}

describe('squaredDistanceTransform', () => {
  it('measures each axis with its own spacing (in-plane 1.5 mm, slices 10 mm)', () => {
    const shape: Vec3 = [3, 3, 3];
    const features = new Uint8Array(27);
    features[0] = 1;
    const d = squaredDistanceTransform(features, shape, [1.5, 1.5, 10]);
    expect(d[1]).toBe(2.25);
    expect(d[3]).toBe(2.25);
    expect(d[9]).toBe(100);
    // (2, 2, 2): 3² + 3² + 20² mm²
    expect(d[26]).toBeCloseTo(418, 12);
  });

  it('is Infinity everywhere without a feature voxel', () => {
    const d = squaredDistanceTransform(new Uint8Array(8), [2, 2, 2], [1, 1, 1]);
    expect([...d].every((v) => v === Infinity)).toBe(true);
  });

  it('equals the brute-force distance on random masks with three different spacings', () => {
    const random = RandomStream.fromSeed(7, 'edt');
    for (let trial = 0; trial < 20; trial++) {
      const shape: Vec3 = [
        2 + Math.floor(random.next() * 7),
        2 + Math.floor(random.next() * 7),
        1 + Math.floor(random.next() * 6),
      ];
      const spacing: Vec3 = [0.3 + random.next() * 2, 0.3 + random.next() * 2, 0.5 + random.next() * 9];
      const features = new Uint8Array(shape[0] * shape[1] * shape[2]);
      const density = random.next() * 0.2;
      for (let n = 0; n < features.length; n++) features[n] = random.next() < density ? 1 : 0;
      features[Math.floor(random.next() * features.length)] = 1;
      const ours = squaredDistanceTransform(features, shape, spacing);
      const expected = bruteForce(features, shape, spacing);
      for (let n = 0; n < ours.length; n++) expect(ours[n]).toBeCloseTo(expected[n]!, 9);
    }
  });
});
