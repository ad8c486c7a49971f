// Runs in: any process. Post-processing candidates decided on validation cases, as nnU-Net does: keep
// only the largest connected component of a structure when that raises its mean Dice on validation data.
import type { Vec3 } from '../io/volume.ts';
import { largestComponent, type Connectivity } from './components.ts';
import { binaryMask, type LabelGrid } from './grid.ts';
import { overlapCounts, overlapMetrics } from './overlap.ts';
import { summarise } from './aggregate.ts';

/** Connectivity nnU-Net uses (scikit-image's default full connectivity). */
export const DEFAULT_CONNECTIVITY: Connectivity = 26;

/**
 * The label map with, for each listed label, every voxel outside that label's largest connected
 * component set to background (0). Other labels are untouched.
 */
export function keepLargestComponentPerLabel(
  data: ArrayLike<number>,
  shape: Vec3,
  labels: readonly number[],
  connectivity: Connectivity = DEFAULT_CONNECTIVITY,
): Int32Array {
  const out = Int32Array.from(data);
  for (const label of labels) {
    const mask = binaryMask(out, label);
    const kept = largestComponent(mask, shape, connectivity);
    for (let n = 0; n < out.length; n++) if (mask[n] === 1 && kept[n] === 0) out[n] = 0;
  }
  return out;
}

export interface LabelDecision {
  label: number;
  meanDiceBefore: number;
  meanDiceAfter: number;
  /** True when keeping the largest component raised the mean Dice over the validation cases. */
  apply: boolean;
}

export interface PostprocessingDecision {
  connectivity: Connectivity;
  cases: number;
  labels: LabelDecision[];
}

export interface ValidationCase {
  reference: LabelGrid;
  prediction: Pick<LabelGrid, 'data'>;
}

/**
 * Decides per label whether keeping only its largest component improves the mean Dice over the given
 * validation cases. Labels are decided independently: removing voxels of one label leaves the Dice of
 * every other label unchanged. A tie keeps the prediction as it is.
 */
export function decideLargestComponent(
  cases: readonly ValidationCase[],
  labels: readonly number[],
  connectivity: Connectivity = DEFAULT_CONNECTIVITY,
): PostprocessingDecision {
  const decisions: LabelDecision[] = [];
  for (const label of labels) {
    const before: number[] = [];
    const after: number[] = [];
    for (const { reference, prediction } of cases) {
      const ref = binaryMask(reference.data, label);
      const pred = binaryMask(prediction.data, label);
      const kept = largestComponent(pred, reference.shape, connectivity);
      before.push(overlapMetrics(overlapCounts(ref, pred), 1).dice);
      after.push(overlapMetrics(overlapCounts(ref, kept), 1).dice);
    }
    const meanDiceBefore = summarise(before).mean;
    const meanDiceAfter = summarise(after).mean;
    decisions.push({ label, meanDiceBefore, meanDiceAfter, apply: meanDiceAfter > meanDiceBefore });
  }
  return { connectivity, cases: cases.length, labels: decisions };
}

/** Applies a decision to one predicted label map. */
export function applyPostprocessing(
  data: ArrayLike<number>,
  shape: Vec3,
  decision: PostprocessingDecision,
): Int32Array {
  const labels = decision.labels.filter((d) => d.apply).map((d) => d.label);
  return keepLargestComponentPerLabel(data, shape, labels, decision.connectivity);
}
