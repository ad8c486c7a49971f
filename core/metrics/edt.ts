// Runs in: any process. Exact Euclidean distance transform on an anisotropic voxel grid, in linear time:
// the lower envelope of parabolas (Felzenszwalb and Huttenlocher 2012) run along i, then j, then k, each
// pass measuring positions in mm with that axis's spacing, so the result is exact for any spacing.
import type { Vec3 } from '../io/volume.ts';

/**
 * Squared distance in mm² from every voxel centre to the nearest voxel centre where `features` is
 * non-zero; Infinity everywhere when there is no feature voxel.
 */
export function squaredDistanceTransform(features: Uint8Array, shape: Vec3, spacing: Vec3): Float64Array {
  const out = new Float64Array(features.length);
  for (let n = 0; n < features.length; n++) out[n] = features[n] === 0 ? Infinity : 0;
  const longest = Math.max(shape[0], shape[1], shape[2]);
  const scratch: LineScratch = {
    f: new Float64Array(longest),
    d: new Float64Array(longest),
    v: new Int32Array(longest),
    z: new Float64Array(longest + 1),
  };
  const strides: Vec3 = [1, shape[0], shape[0] * shape[1]];
  for (let axis = 0; axis < 3; axis++) {
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
