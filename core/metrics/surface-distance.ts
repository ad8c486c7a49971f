// Runs in: any process. Surface-to-surface distances between two masks in mm, and the summaries the
// challenges report from them (Hausdorff, HD95, average symmetric surface distance, surface Dice).
import type { Vec3 } from '../io/volume.ts';
import { squaredDistanceTransform } from './edt.ts';
import { boundingBox, boxShape, cropMask } from './grid.ts';
import { surfaceOf } from './surface.ts';

export interface SurfaceDistances {
  /** For every surface voxel of a, the distance in mm to the nearest surface voxel of b. */
  aToB: Float64Array;
  /** For every surface voxel of b, the distance in mm to the nearest surface voxel of a. */
  bToA: Float64Array;
}

/**
 * Directed surface distances between two non-empty masks on the same grid (surfaces as in surface.ts).
 *
 * Works on the bounding box of both masks, which is exact: every surface voxel of either mask lies in
 * the box, so the nearest one to any query is found inside it, and a mask voxel on the box's edge that is
 * not on the grid's edge has its outside neighbour in background (the box holds all of both masks), so
 * treating outside-the-box as background marks the same border voxels as on the full grid. No padding is
 * needed for either reason.
 */
export function surfaceDistances(a: Uint8Array, b: Uint8Array, shape: Vec3, spacing: Vec3): SurfaceDistances {
  const box = boundingBox(a, b, shape);
  if (!box) return { aToB: new Float64Array(0), bToA: new Float64Array(0) };
  return croppedSurfaceDistances(cropMask(a, shape, box), cropMask(b, shape, box), boxShape(box), spacing);
}

/** surfaceDistances for masks already cut to the bounding box of both (of shape `cropShape`). */
export function croppedSurfaceDistances(
  a: Uint8Array,
  b: Uint8Array,
  cropShape: Vec3,
  spacing: Vec3,
): SurfaceDistances {
  const edgeA = surfaceOf(a, cropShape);
  const edgeB = surfaceOf(b, cropShape);
  return {
    aToB: sampleDistances(squaredDistanceTransform(edgeB, cropShape, spacing), edgeA),
    bToA: sampleDistances(squaredDistanceTransform(edgeA, cropShape, spacing), edgeB),
  };
}

function sampleDistances(squared: Float64Array, at: Uint8Array): Float64Array {
  let count = 0;
  for (let n = 0; n < at.length; n++) count += at[n]!;
  const out = new Float64Array(count);
  for (let n = 0, m = 0; n < at.length; n++) if (at[n] !== 0) out[m++] = Math.sqrt(squared[n]!);
  return out;
}

/**
 * The p-th percentile (0..100) of ascending values, interpolating linearly between the two nearest
 * ranks: numpy.percentile's default, which medpy and MONAI call.
 */
export function percentile(sorted: Float64Array, p: number): number {
  const n = sorted.length;
  if (n === 0) return 0;
  const h = ((n - 1) * p) / 100;
  const lo = Math.floor(h);
  const hi = Math.min(lo + 1, n - 1);
  return sorted[lo]! + (h - lo) * (sorted[hi]! - sorted[lo]!);
}

/**
 * HD95 definitions found in the literature:
 * - 'pooled': 95th percentile of both directed distance sets together (medpy's hd95, PROMISE12 papers);
 * - 'max-directed': the larger of the two directed 95th percentiles (MONAI's compute_hausdorff_distance).
 */
export type Hd95Definition = 'pooled' | 'max-directed';

export interface DistanceSummary {
  hd: number;
  hd95: number;
  assd: number;
  nsd: number;
}

/**
 * Distances within tau count as within tolerance up to this relative rounding slack, so that a distance
 * equal to tau on paper (say 1.5 mm on a 1.5 mm grid) is not excluded by floating-point noise.
 */
const TOLERANCE_SLACK = 1e-9;

/** Summaries of non-empty directed distance sets. */
export function summariseDistances(d: SurfaceDistances, hd95: Hd95Definition, tau: number): DistanceSummary {
  const pooled = new Float64Array(d.aToB.length + d.bToA.length);
  pooled.set(d.aToB);
  pooled.set(d.bToA, d.aToB.length);
  pooled.sort();
  let sum = 0;
  let within = 0;
  const limit = tau * (1 + TOLERANCE_SLACK);
  for (let n = 0; n < pooled.length; n++) {
    const value = pooled[n]!;
    sum += value;
    if (value <= limit) within++;
  }
  return {
    hd: pooled[pooled.length - 1] ?? 0,
    hd95:
      hd95 === 'pooled'
        ? percentile(pooled, 95)
        : Math.max(
            percentile(Float64Array.from(d.aToB).sort(), 95),
            percentile(Float64Array.from(d.bToA).sort(), 95),
          ),
    assd: pooled.length > 0 ? sum / pooled.length : 0,
    nsd: pooled.length > 0 ? within / pooled.length : 1,
  };
}
