// Runs in: any process. Every metric of one structure of one case: the unit the per-case tables, the
// dataset reports and the evaluate command are built from.
import type { EmptyStatus } from './empty-policy.ts';
import type { Vec3 } from '../io/volume.ts';
import {
  boundingBox,
  boxShape,
  cropLabel,
  cropMask,
  labelBoundingBox,
  physicalDiagonal,
  type LabelGrid,
} from './grid.ts';
import { emptyStatus, overlapCounts, overlapMetrics, type OverlapMetrics } from './overlap.ts';
import { croppedSurfaceDistances, summariseDistances, type Hd95Definition } from './surface-distance.ts';

export interface MetricOptions {
  hd95: Hd95Definition;
  /** Tolerance in mm of the normalised surface Dice. */
  tau: number;
}

export const DEFAULT_METRIC_OPTIONS: MetricOptions = { hd95: 'pooled', tau: 1 };

export interface LabelMetrics extends OverlapMetrics {
  /** Hausdorff distance, mm. */
  hd: number;
  /** 95th-percentile Hausdorff distance, mm, by the definition in the options. */
  hd95: number;
  /** Average symmetric surface distance, mm: the mean of both directed distance sets pooled. */
  assd: number;
  /** Normalised surface Dice at the options' tau. */
  nsd: number;
  empty: EmptyStatus;
}

/** A structure absent from reference and prediction alike, scored by the empty-mask policy. */
export function absentFromBoth(): LabelMetrics {
  return {
    ...overlapMetrics({ reference: 0, prediction: 0, both: 0 }, 1),
    hd: 0,
    hd95: 0,
    assd: 0,
    nsd: 1,
    empty: 'both',
  };
}

/** Compares one structure given as binary masks (1 = inside) on the reference's grid. */
export function compareMasks(
  reference: Uint8Array,
  prediction: Uint8Array,
  grid: Pick<LabelGrid, 'shape' | 'spacing'>,
  options: MetricOptions = DEFAULT_METRIC_OPTIONS,
): LabelMetrics {
  const box = boundingBox(reference, prediction, grid.shape);
  if (!box) return absentFromBoth();
  return compareInBox(
    cropMask(reference, grid.shape, box),
    cropMask(prediction, grid.shape, box),
    boxShape(box),
    grid,
    options,
  );
}

/** Compares the voxels holding `label` in two label maps on the same grid. */
export function compareLabel(
  reference: LabelGrid,
  prediction: Pick<LabelGrid, 'data'>,
  label: number,
  options: MetricOptions = DEFAULT_METRIC_OPTIONS,
): LabelMetrics {
  const box = labelBoundingBox(reference.data, prediction.data, label, reference.shape);
  if (!box) return absentFromBoth();
  return compareInBox(
    cropLabel(reference.data, label, reference.shape, box),
    cropLabel(prediction.data, label, reference.shape, box),
    boxShape(box),
    reference,
    options,
  );
}

/**
 * Metrics from the two masks cut to the bounding box of both: every voxel of either lies in the box, so
 * counts are whole-image counts and distances are exact (see surfaceDistances).
 */
function compareInBox(
  reference: Uint8Array,
  prediction: Uint8Array,
  cropShape: Vec3,
  grid: Pick<LabelGrid, 'shape' | 'spacing'>,
  options: MetricOptions,
): LabelMetrics {
  const counts = overlapCounts(reference, prediction);
  const voxelVolume = grid.spacing[0] * grid.spacing[1] * grid.spacing[2];
  const overlap = overlapMetrics(counts, voxelVolume);
  const empty = emptyStatus(counts);
  if (empty !== 'none') {
    const worst = physicalDiagonal(grid.shape, grid.spacing);
    return { ...overlap, hd: worst, hd95: worst, assd: worst, nsd: 0, empty };
  }
  const distances = croppedSurfaceDistances(prediction, reference, cropShape, grid.spacing);
  return { ...overlap, ...summariseDistances(distances, options.hd95, options.tau), empty };
}

/** Every listed structure of one case, keyed by label value. */
export function compareLabels(
  reference: LabelGrid,
  prediction: Pick<LabelGrid, 'data'>,
  labels: number[],
  options: MetricOptions = DEFAULT_METRIC_OPTIONS,
): Map<number, LabelMetrics> {
  const out = new Map<number, LabelMetrics>();
  for (const label of labels) out.set(label, compareLabel(reference, prediction, label, options));
  return out;
}
