// Runs in: the vitest process. Small hand-built label grids for the metric tests.
import type { Vec3 } from '../../../core/io/volume.ts';
import type { LabelGrid } from '../../../core/metrics/grid.ts';

/** A grid of the given shape and spacing with `label` at the listed voxels (i, j, k). */
export function grid(
  shape: Vec3,
  spacing: Vec3,
  voxels: Vec3[] = [],
  label = 1,
): LabelGrid & { data: Uint8Array } {
  const data = new Uint8Array(shape[0] * shape[1] * shape[2]);
  for (const v of voxels) paint(data, shape, v, label);
  return { data, shape, spacing };
}

export function paint(data: Uint8Array, shape: Vec3, [i, j, k]: Vec3, label: number): void {
  data[i + shape[0] * (j + shape[1] * k)] = label;
}

/** Every voxel of the inclusive box [lo, hi]. */
export function block(lo: Vec3, hi: Vec3): Vec3[] {
  const out: Vec3[] = [];
  for (let k = lo[2]; k <= hi[2]; k++)
    for (let j = lo[1]; j <= hi[1]; j++) for (let i = lo[0]; i <= hi[0]; i++) out.push([i, j, k]);
  return out;
}
