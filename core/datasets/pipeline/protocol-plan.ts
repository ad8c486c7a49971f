// Runs in: a training worker, or whatever process predicts. The 'reference' training protocol's plan for a
// PROMISE12 dataset: the authors' preprocessing (reference-promise12.ts: 1 x 1 x 1.5 mm, centre crop
// 128 x 128 x 64, per-slice 3-sigma clipping and [0, 1] scaling) applied through the one plan every
// training and prediction carries, and undone for a prediction (restoreReferencePromise12Labels), which the
// reference never does: it scores on its own grid (method.md section 6.3).
import { permute, type Grid, type Shape3 } from './grid.ts';
import type { PreprocessingPlan } from './plan.ts';
import type { CanonicalInput, PreprocessRecord } from './preprocess.ts';
import {
  referencePromise12Image,
  referencePromise12Mask,
  restoreReferencePromise12Labels,
  REFERENCE_PROMISE12_PLAN,
  type ReferencePromise12Plan,
} from './reference-promise12.ts';

/** The slab the reference trains on, 128 x 128 x 16 of its 128 x 128 x 64 volumes (method.md 4.1). */
const REFERENCE_SLAB: Shape3 = [128, 128, 16];

/** A PROMISE12 plan made the reference's: its preprocessing, its axis order and its slab. */
export function referencePromise12PlanOf(plan: PreprocessingPlan): PreprocessingPlan {
  const reference = REFERENCE_PROMISE12_PLAN;
  return {
    ...plan,
    axisOrder: [...reference.axisOrder],
    targetSpacing: permute(reference.spacing, reference.axisOrder),
    medianShape: permute(reference.volume, reference.axisOrder),
    maxShape: permute(reference.volume, reference.axisOrder),
    patch: [...REFERENCE_SLAB],
    notes: [...reference.notes],
    reference,
  };
}

export function preprocessReferenceImage(
  image: CanonicalInput,
  reference: ReferencePromise12Plan,
  file: string,
): { grid: Grid; record: PreprocessRecord } {
  return {
    grid: referencePromise12Image(image, file, reference),
    record: {
      canonicalShape: [...image.shape],
      gridShape: permute(image.shape, reference.axisOrder),
      shape: permute(reference.volume, reference.axisOrder),
      spacing: [...image.spacing],
    },
  };
}

/** The mask as class indices (1 = prostate) on the network grid. */
export function preprocessReferenceLabel(
  label: CanonicalInput,
  reference: ReferencePromise12Plan,
  file: string,
): Grid<Uint8Array> {
  return referencePromise12Mask(label, file, reference);
}

/** Class probabilities on the reference grid back to a label map of the dataset's values, canonical order. */
export function restoreReferenceLabelMap(
  probabilities: Float32Array,
  record: PreprocessRecord,
  plan: PreprocessingPlan,
  reference: ReferencePromise12Plan,
): { data: Uint8Array; shape: Shape3 } {
  const spacing = record.spacing ?? [1, 1, 1];
  const classes = restoreReferencePromise12Labels(
    probabilities,
    { shape: record.canonicalShape, spacing },
    reference,
  );
  const values = plan.labels.map((l) => l.value);
  return { data: classes.data.map((k) => values[k] as number), shape: classes.shape };
}
