// Runs in: any process. Exact Euclidean distance transform on an anisotropic voxel grid, in linear time:
// nearest feature along i by two sweeps, then the lower envelope of parabolas (Felzenszwalb and
// Huttenlocher 2012) along j and then k, each pass measuring positions in mm with that axis's spacing, so
// the result is exact for any spacing.
import type { Vec3 } from '../io/volume.ts';

/**
 * Squared distance in mm² from every voxel centre to the nearest voxel centre where `features` is
 * non-zero; Infinity everywhere when there is no feature voxel.
 */
export function squaredDistanceTransform(features: Uint8Array, shape: Vec3, spacing: Vec3): Float64Array {
  const out = new Float64Array(features.length);
  firstAxis(features, out, shape[0], spacing[0]);
  const longest = Math.max(shape[0], shape[1], shape[2]);
  const scratch: LineScratch = {
    f: new Float64Array(longest),
    d: new Float64Array(longest),
    v: new Int32Array(longest),
    z: new Float64Array(longest + 1),
  };
  const strides: Vec3 = [1, shape[0], shape[0] * shape[1]];
  for (let axis = 1; axis < 3; axis++) {
    const a = axis === 0 ? 1 : 0;
    const b = axis === 2 ? 1 : 2;
    for (let ob = 0; ob < shape[b]!; ob++) {
      for (let oa = 0; oa < shape[a]!; oa++) {
        const base = oa * strides[a]! + ob * strides[b]!;
        transformLine(out, base, strides[axis]!, shape[axis]!, spacing[axis]!, scratch);
      }
    }
  }
  return out;
}

/**
 * The pass along i, where every value is 0 or Infinity: the squared distance to the nearest feature voxel
 * on the same row, found by one sweep each way.
 */
function firstAxis(features: Uint8Array, out: Float64Array, nx: number, w: number): void {
  for (let row = 0; row < features.length; row += nx) {
    let last = -Infinity;
    for (let i = 0; i < nx; i++) {
      if (features[row + i] !== 0) last = i;
      const d = (i - last) * w;
      out[row + i] = d * d;
    }
    let next = Infinity;
    for (let i = nx - 1; i >= 0; i--) {
      if (features[row + i] !== 0) next = i;
      const d = (next - i) * w;
      if (d * d < out[row + i]!) out[row + i] = d * d;
    }
  }
}

interface LineScratch {
  f: Float64Array;
  d: Float64Array;
  v: Int32Array;
  z: Float64Array;
}

/**
 * d(q) = min over p of (w·(q − p))² + f(p) along one line of the grid, in place. Points where f is
 * Infinity never enter the envelope, so a line with no finite value stays Infinity.
 */
function transformLine(
  grid: Float64Array,
  base: number,
  stride: number,
  n: number,
  w: number,
  s: LineScratch,
): void {
  const { f, d, v, z } = s;
  for (let q = 0; q < n; q++) f[q] = grid[base + q * stride]!;
  let k = -1;
  for (let q = 0; q < n; q++) {
    const fq = f[q]!;
    if (fq === Infinity) continue;
    const xq = w * q;
    if (k < 0) {
      k = 0;
      v[0] = q;
      z[0] = -Infinity;
      z[1] = Infinity;
      continue;
    }
    let cut: number;
    // z[0] is −Infinity, so this stops at k = 0 at the latest.
    for (;;) {
      const p = v[k]!;
      const xp = w * p;
      cut = (fq + xq * xq - (f[p]! + xp * xp)) / (2 * (xq - xp));
      if (cut > z[k]!) break;
      k--;
    }
    k++;
    v[k] = q;
    z[k] = cut;
    z[k + 1] = Infinity;
  }
  if (k < 0) return;
  for (let q = 0, j = 0; q < n; q++) {
    const x = w * q;
    while (z[j + 1]! < x) j++;
    const p = v[j]!;
    const dx = x - w * p;
    d[q] = dx * dx + f[p]!;
  }
  for (let q = 0; q < n; q++) grid[base + q * stride] = d[q]!;
}
