// Runs in: any process. The label grid every metric reads, binary masks cut from it, and bounding boxes.
import type { Vec3 } from '../io/volume.ts';

/**
 * A label map on a voxel grid: voxel (i, j, k) at data[i + shape[0] * (j + shape[1] * k)], spacing in mm
 * along i, j, k. A Volume from core/io is one; metrics need nothing else from it.
 */
export interface LabelGrid {
  data: ArrayLike<number>;
  shape: Vec3;
  spacing: Vec3;
}

/** Inclusive voxel index ranges [lo, hi] per axis. */
export interface Box {
  lo: Vec3;
  hi: Vec3;
}

/** 1 where the label map holds `label`, 0 elsewhere. */
export function binaryMask(data: ArrayLike<number>, label: number): Uint8Array {
  const mask = new Uint8Array(data.length);
  for (let n = 0; n < data.length; n++) if (data[n] === label) mask[n] = 1;
  return mask;
}

/** The smallest box holding every voxel where either mask is non-zero, or undefined when both are empty. */
export function boundingBox(a: Uint8Array, b: Uint8Array, shape: Vec3): Box | undefined {
  return boxWhere(shape, (n) => a[n] !== 0 || b[n] !== 0);
}

/** The smallest box holding every voxel where `label` is in either label map, or undefined when in neither. */
export function labelBoundingBox(
  a: ArrayLike<number>,
  b: ArrayLike<number>,
  label: number,
  shape: Vec3,
): Box | undefined {
  return boxWhere(shape, (n) => a[n] === label || b[n] === label);
}

function boxWhere(shape: Vec3, inside: (n: number) => boolean): Box | undefined {
  const [nx, ny, nz] = shape;
  const lo: Vec3 = [nx, ny, nz];
  const hi: Vec3 = [-1, -1, -1];
  for (let k = 0, row = 0; k < nz; k++) {
    for (let j = 0; j < ny; j++, row += nx) {
      let first = -1;
      let last = -1;
      for (let i = 0; i < nx; i++) {
        if (!inside(row + i)) continue;
        if (first < 0) first = i;
        last = i;
      }
      if (first < 0) continue;
      if (first < lo[0]) lo[0] = first;
      if (last > hi[0]) hi[0] = last;
      if (j < lo[1]) lo[1] = j;
      if (j > hi[1]) hi[1] = j;
      if (k < lo[2]) lo[2] = k;
      if (k > hi[2]) hi[2] = k;
    }
  }
  return hi[0] < 0 ? undefined : { lo, hi };
}

export function boxShape(box: Box): Vec3 {
  return [box.hi[0] - box.lo[0] + 1, box.hi[1] - box.lo[1] + 1, box.hi[2] - box.lo[2] + 1];
}

/** The part of a binary mask inside a box, as a mask of the box's own shape. */
export function cropMask(mask: Uint8Array, shape: Vec3, box: Box): Uint8Array {
  return cropWhere(shape, box, (n) => mask[n] !== 0);
}

/** The voxels holding `label` inside a box, as a binary mask of the box's own shape. */
export function cropLabel(data: ArrayLike<number>, label: number, shape: Vec3, box: Box): Uint8Array {
  return cropWhere(shape, box, (n) => data[n] === label);
}

function cropWhere(shape: Vec3, box: Box, inside: (n: number) => boolean): Uint8Array {
  const [bx, by, bz] = boxShape(box);
  const out = new Uint8Array(bx * by * bz);
  const [nx, ny] = shape;
  for (let k = 0, m = 0; k < bz; k++) {
    for (let j = 0; j < by; j++) {
      const row = box.lo[0] + nx * (box.lo[1] + j + ny * (box.lo[2] + k));
      for (let i = 0; i < bx; i++, m++) if (inside(row + i)) out[m] = 1;
    }
  }
  return out;
}

/** Length in mm of the diagonal of the grid's field of view (voxel count times spacing per axis). */
export function physicalDiagonal(shape: Vec3, spacing: Vec3): number {
  return Math.hypot(shape[0] * spacing[0], shape[1] * spacing[1], shape[2] * spacing[2]);
}
