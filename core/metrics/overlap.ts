// Runs in: any process. Overlap and volume metrics of one structure from voxel counts.
import type { EmptyStatus } from './empty-policy.ts';

export interface OverlapCounts {
  reference: number;
  prediction: number;
  both: number;
}

export function overlapCounts(reference: Uint8Array, prediction: Uint8Array): OverlapCounts {
  let r = 0;
  let p = 0;
  let both = 0;
  for (let n = 0; n < reference.length; n++) {
    const a = reference[n]!;
    const b = prediction[n]!;
    r += a;
    p += b;
    both += a & b;
  }
  return { reference: r, prediction: p, both };
}

export function emptyStatus(c: OverlapCounts): EmptyStatus {
  if (c.reference === 0) return c.prediction === 0 ? 'both' : 'reference';
  return c.prediction === 0 ? 'prediction' : 'none';
}

export interface OverlapMetrics {
  dice: number;
  jaccard: number;
  /** Fraction of the reference found (recall). */
  sensitivity: number;
  /** Fraction of the prediction that is right. */
  precision: number;
  /** Millilitres. */
  volumeReference: number;
  volumePrediction: number;
  /** Absolute relative volume difference, percent of the reference volume. */
  arvd: number;
}

/** Overlap metrics with the empty-mask policy of empty-policy.ts. voxelVolume in mm³. */
export function overlapMetrics(c: OverlapCounts, voxelVolume: number): OverlapMetrics {
  const volumes = {
    volumeReference: (c.reference * voxelVolume) / 1000,
    volumePrediction: (c.prediction * voxelVolume) / 1000,
  };
  const status = emptyStatus(c);
  if (status === 'both') {
    return { dice: 1, jaccard: 1, sensitivity: 1, precision: 1, ...volumes, arvd: 0 };
  }
  if (status !== 'none') {
    const arvd = status === 'prediction' ? 100 : 100 * c.prediction;
    return { dice: 0, jaccard: 0, sensitivity: 0, precision: 0, ...volumes, arvd };
  }
  return {
    dice: (2 * c.both) / (c.reference + c.prediction),
    jaccard: c.both / (c.reference + c.prediction - c.both),
    sensitivity: c.both / c.reference,
    precision: c.both / c.prediction,
    ...volumes,
    arvd: (100 * Math.abs(c.prediction - c.reference)) / c.reference,
  };
}
