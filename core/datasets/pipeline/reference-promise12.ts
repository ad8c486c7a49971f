// Runs in: any process. The reference implementation's PROMISE12 preprocessing (method.md 6.1), for the
// 'reference' protocol: each step as the authors' code does it, so a search on PROMISE12 sees the volumes
// the paper's networks saw. It works on the file's own voxel order (i = x, j = y, k = z), as SimpleITK does
// when it resamples with an identity transform. The reference's per-volume z-score of voxels > 0 (6.1
// step 5) is left out: it is a positive affine map per volume, which the per-slice clipping and [0, 1]
// scaling that follow cancel exactly (up to rounding).
import { EmonasError } from '../../base/errors.ts';
import { fromGrid, gridSize, permute, toGrid, type AxisOrder, type Grid, type Shape3 } from './grid.ts';
import type { CanonicalInput } from './preprocess.ts';
import { REFERENCE_PROMISE12_CASES, REFERENCE_PROMISE12_VALIDATION } from './reference-split.ts';

/** What the reference protocol does to a PROMISE12 case; stored with a model so prediction repeats it. */
export interface ReferencePromise12Plan {
  format: 'emonas-reference-promise12-1';
  /** Target spacing in mm, x y z (file axes i j k). */
  spacing: Shape3;
  /** The centre crop, voxels x y z; also the smallest resampled size. */
  volume: Shape3;
  /** File axes in network order: (y, x, z) = rows, columns, slices, as the reference's transpose. */
  axisOrder: AxisOrder;
  /** Masks are 1 above this, before and after resampling. */
  maskThreshold: number;
  /** Each axial slice is clipped to its mean +- this many standard deviations. */
  clipStd: number;
  /** Added to the slice maximum before dividing (numpy float64 in the reference). */
  epsilon: number;
  cases: readonly string[];
  validation: readonly string[];
  notes: readonly string[];
}

export const REFERENCE_PROMISE12_PLAN: ReferencePromise12Plan = {
  format: 'emonas-reference-promise12-1',
  spacing: [1, 1, 1.5],
  volume: [128, 128, 64],
  axisOrder: [1, 0, 2],
  maskThreshold: 0.5,
  clipStd: 3,
  epsilon: 1e-100,
  cases: REFERENCE_PROMISE12_CASES,
  validation: REFERENCE_PROMISE12_VALIDATION,
  notes: [
    'Reference PROMISE12 preprocessing (method.md 6.1): image min-max to [0, 1], mask > 0.5.',
    'Resampled to 1 x 1 x 1.5 mm (x y z) linearly, image and mask, keeping origin and direction; size max(floor(size x spacing / new), 128 x 128 x 64); outside = 0.',
    'Centre crop 128 x 128 x 64, start floor(size / 2 - (64, 64, 32)); mask > 0.5 again; axes (y, x, z).',
    'Per axial slice: clip to mean +- 3 std, then (v - min) / (max - min + 1e-100); a constant slice becomes 0.',
    'Fixed split: validation Case02, 04, 10, 11, 22, 27, 28, 31, 38, 41; training the other 40; no test cases.',
  ],
};

/** Min-max rescaling to [0, 1] in float32; a constant image becomes 0, as ITK's RescaleIntensityImageFilter gives. */
export function rescaleToUnit(data: ArrayLike<number>): Float32Array {
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < data.length; i++) {
    const v = data[i] as number;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  const out = new Float32Array(data.length);
  if (!(max > min)) return out;
  const scale = 1 / (max - min);
  for (let i = 0; i < data.length; i++) out[i] = ((data[i] as number) - min) * scale;
  return out;
}

/** 1 where a value is above the threshold, else 0, as float32 so it can be resampled linearly. */
export function thresholdMask(data: ArrayLike<number>, threshold: number): Float32Array {
  const out = new Float32Array(data.length);
  for (let i = 0; i < data.length; i++) out[i] = (data[i] as number) > threshold ? 1 : 0;
  return out;
}

/** The reference's resampled size per axis: max(floor(size * (spacing / target)), minimum). */
export function referenceResampledSize(
  shape: Shape3,
  spacing: Shape3,
  target: Shape3,
  minimum: Shape3,
): Shape3 {
  return shape.map((n, a) =>
    Math.max(Math.floor(n * ((spacing[a] as number) / (target[a] as number))), minimum[a] as number),
  ) as Shape3;
}

/** The centre crop's start per axis: floor(size / 2 - crop / 2). */
export function centreCropStart(shape: Shape3, crop: Shape3): Shape3 {
  return shape.map((n, a) => Math.floor(n / 2 - (crop[a] as number) / 2)) as Shape3;
}

/**
 * Linear resampling that keeps the origin (ITK's ResampleImageFilter with an identity transform): output
 * voxel o reads input index o * target / spacing on each axis; a point at or beyond size - 0.5 (outside
 * the input's half-voxel border) is 0, and between the last centre and that border the last voxel is
 * repeated, as ITK's linear interpolator does (IsInsideBuffer's half-voxel border; a point exactly on it
 * may fall either way in the reference, whose index comes through rounded physical coordinates). Exactly
 * trilinear, done one axis at a time in float64.
 */
export function resampleKeepingOrigin(grid: Grid, spacing: Shape3, target: Shape3, shape: Shape3): Grid {
  let data: Float64Array | Float32Array = grid.data;
  const current: Shape3 = [...grid.shape];
  for (let axis = 0; axis < 3; axis++) {
    data = resampleAxis(
      data,
      current,
      axis,
      shape[axis] as number,
      (target[axis] as number) / (spacing[axis] as number),
    );
    current[axis] = shape[axis] as number;
  }
  return { data: Float32Array.from(data), shape: [...shape] };
}

function resampleAxis(
  src: Float64Array | Float32Array,
  shape: Shape3,
  axis: number,
  size: number,
  step: number,
): Float64Array {
  const from = shape[axis] as number;
  const outShape: Shape3 = [...shape];
  outShape[axis] = size;
  const lo = new Int32Array(size);
  const hi = new Int32Array(size);
  const weight = new Float64Array(size);
  const inside = new Uint8Array(size);
  for (let x = 0; x < size; x++) {
    const c = x * step;
    if (c >= from - 0.5) continue;
    const f = Math.floor(c);
    lo[x] = f;
    hi[x] = Math.min(f + 1, from - 1);
    weight[x] = c - f;
    inside[x] = 1;
  }
  const strides: Shape3 = [shape[1] * shape[2], shape[2], 1];
  const outStrides: Shape3 = [outShape[1] * outShape[2], outShape[2], 1];
  const [p, q] = [0, 1, 2].filter((a) => a !== axis) as [number, number];
  const stride = strides[axis] as number;
  const outStride = outStrides[axis] as number;
  const out = new Float64Array(gridSize(outShape));
  for (let u = 0; u < (shape[p] as number); u++) {
    for (let v = 0; v < (shape[q] as number); v++) {
      const inBase = u * (strides[p] as number) + v * (strides[q] as number);
      const outBase = u * (outStrides[p] as number) + v * (outStrides[q] as number);
      for (let x = 0; x < size; x++) {
        if (inside[x] === 0) continue;
        const w = weight[x] as number;
        const a = src[inBase + (lo[x] as number) * stride] as number;
        const b = src[inBase + (hi[x] as number) * stride] as number;
        out[outBase + x * outStride] = a + (b - a) * w;
      }
    }
  }
  return out;
}

/** The block of `shape` voxels starting at `start`; the block must lie inside the grid. */
export function cropGrid(grid: Grid, start: Shape3, shape: Shape3): Grid {
  for (let a = 0; a < 3; a++) {
    if ((start[a] as number) < 0 || (start[a] as number) + (shape[a] as number) > (grid.shape[a] as number)) {
      throw new EmonasError(
        'internal',
        `A crop of ${shape.join(' x ')} at ${start.join(', ')} does not fit a grid of ${grid.shape.join(' x ')}.`,
      );
    }
  }
  const out = new Float32Array(gridSize(shape));
  const [, n1, n2] = grid.shape;
  let o = 0;
  for (let a = 0; a < shape[0]; a++) {
    for (let b = 0; b < shape[1]; b++) {
      const base = ((a + start[0]) * n1 + b + start[1]) * n2 + start[2];
      for (let c = 0; c < shape[2]; c++) out[o++] = grid.data[base + c] as number;
    }
  }
  return { data: out, shape: [...shape] };
}

/**
 * Per slice along the grid's last axis: clip to mean +- clipStd population standard deviations, then
 * (v - min) / (max - min + epsilon), in float64. A constant slice becomes 0 (0 / epsilon), as in the
 * reference's float64 arithmetic.
 */
export function normaliseSlices(grid: Grid, clipStd: number, epsilon: number): Grid {
  const [n0, n1, n2] = grid.shape;
  const plane = n0 * n1;
  const values = new Float64Array(plane);
  const out = new Float32Array(grid.data.length);
  for (let k = 0; k < n2; k++) {
    let sum = 0;
    for (let p = 0; p < plane; p++) {
      const v = grid.data[p * n2 + k] as number;
      values[p] = v;
      sum += v;
    }
    const mean = sum / plane;
    let sq = 0;
    for (let p = 0; p < plane; p++) sq += ((values[p] as number) - mean) ** 2;
    const std = Math.sqrt(sq / plane);
    const low = mean - clipStd * std;
    const high = mean + clipStd * std;
    let min = Infinity;
    let max = -Infinity;
    for (let p = 0; p < plane; p++) {
      const v = Math.min(Math.max(values[p] as number, low), high);
      values[p] = v;
      if (v < min) min = v;
      if (v > max) max = v;
    }
    const denominator = max - min + epsilon;
    for (let p = 0; p < plane; p++) out[p * n2 + k] = ((values[p] as number) - min) / denominator;
  }
  return { data: out, shape: [...grid.shape] };
}

/** A file-order volume resampled, centre-cropped and put in network order, as the reference does. */
function resampleAndCrop(
  data: Float32Array,
  input: CanonicalInput,
  plan: ReferencePromise12Plan,
  file: string,
): Grid {
  if (!input.spacing.every((s) => Number.isFinite(s) && s > 0)) {
    throw new EmonasError(
      'invalid_dataset',
      `${file} has spacing ${input.spacing.join(' x ')} mm; resampling to ${plan.spacing.join(' x ')} mm needs positive spacings.`,
      { file },
    );
  }
  const ordered = toGrid(data, input.shape, plan.axisOrder, new Float32Array(data.length));
  const spacing = permute(input.spacing, plan.axisOrder);
  const target = permute(plan.spacing, plan.axisOrder);
  const volume = permute(plan.volume, plan.axisOrder);
  const size = referenceResampledSize(ordered.shape, spacing, target, volume);
  const resampled = resampleKeepingOrigin(ordered, spacing, target, size);
  return cropGrid(resampled, centreCropStart(size, volume), volume);
}

/** The reference-preprocessed image of one case: (y, x, z) = 128 x 128 x 64, each slice in [0, 1]. */
export function referencePromise12Image(
  image: CanonicalInput,
  file: string,
  plan: ReferencePromise12Plan = REFERENCE_PROMISE12_PLAN,
): Grid {
  const cropped = resampleAndCrop(rescaleToUnit(image.data), image, plan, file);
  return normaliseSlices(cropped, plan.clipStd, plan.epsilon);
}

/** The reference-preprocessed mask of one case: 1 where the resampled, cropped mask is above 0.5. */
export function referencePromise12Mask(
  label: CanonicalInput,
  file: string,
  plan: ReferencePromise12Plan = REFERENCE_PROMISE12_PLAN,
): Grid<Uint8Array> {
  const soft = resampleAndCrop(thresholdMask(label.data, plan.maskThreshold), label, plan, file);
  const data = new Uint8Array(soft.data.length);
  for (let i = 0; i < data.length; i++) data[i] = (soft.data[i] as number) > plan.maskThreshold ? 1 : 0;
  return { data, shape: soft.shape };
}

/**
 * A prediction on the reference grid (class probabilities channel-major, background first, each class a
 * (y, x, z) = 128 x 128 x 64 grid) as a class map on the case's own file grid (i fastest): put back into
 * the resampled volume (background outside the crop), resampled linearly back to the file's spacing from
 * the same origin, then argmax. The reference itself never maps back (method.md 6.3).
 */
export function restoreReferencePromise12Labels(
  probabilities: Float32Array,
  original: { shape: Shape3; spacing: Shape3 },
  plan: ReferencePromise12Plan = REFERENCE_PROMISE12_PLAN,
): { data: Uint8Array; shape: Shape3 } {
  const volume = permute(plan.volume, plan.axisOrder);
  const voxels = gridSize(volume);
  const classes = probabilities.length / voxels;
  if (!Number.isInteger(classes) || classes < 1) {
    throw new EmonasError(
      'internal',
      `A reference PROMISE12 prediction holds ${probabilities.length} values, not a whole number of ${volume.join(' x ')} grids.`,
    );
  }
  const gridShape = permute(original.shape, plan.axisOrder);
  const spacing = permute(original.spacing, plan.axisOrder);
  const target = permute(plan.spacing, plan.axisOrder);
  const size = referenceResampledSize(gridShape, spacing, target, volume);
  const start = centreCropStart(size, volume);
  const best = new Float32Array(gridSize(gridShape)).fill(-Infinity);
  const labels = new Uint8Array(best.length);
  for (let k = 0; k < classes; k++) {
    const full = new Float32Array(gridSize(size)).fill(k === 0 ? 1 : 0);
    for (let a = 0; a < volume[0]; a++) {
      for (let b = 0; b < volume[1]; b++) {
        const from = k * voxels + (a * volume[1] + b) * volume[2];
        const to = ((a + start[0]) * size[1] + b + start[1]) * size[2] + start[2];
        full.set(probabilities.subarray(from, from + volume[2]), to);
      }
    }
    const back = resampleKeepingOrigin({ data: full, shape: size }, target, spacing, gridShape).data;
    for (let n = 0; n < back.length; n++) {
      if ((back[n] as number) > (best[n] as number)) {
        best[n] = back[n] as number;
        labels[n] = k;
      }
    }
  }
  return fromGrid({ data: labels, shape: gridShape }, plan.axisOrder, new Uint8Array(labels.length));
}
