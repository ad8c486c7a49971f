// Runs in: a training worker (or a test, in process). The post-processing decision a model folder carries,
// made once when its training ends, as nnU-Net makes it: per label, keep only the largest connected
// component if that raises the label's mean Dice over the validation cases (core/metrics/postprocessing.ts).
// It is decided on the best epoch's argmax label maps of the validation cases, on the plan's grid, the same
// predictions that gave the reported validation Dice; no extra inference when they are at hand.
import { EmonasError } from '../base/errors.ts';
import type { Shape3 } from '../datasets/pipeline/grid.ts';
import type { PreprocessingPlan } from '../datasets/pipeline/plan.ts';
import type { PreparedCase } from '../datasets/pipeline/prepared-case.ts';
import type { Vec3 } from '../io/volume.ts';
import type { Connectivity } from '../metrics/components.ts';
import {
  decideLargestComponent,
  DEFAULT_CONNECTIVITY,
  type PostprocessingDecision,
} from '../metrics/postprocessing.ts';

/**
 * What emonas-model.json records: the decision, with label values as the dataset numbers them (what a
 * prediction holds), and which validation label maps it was made on.
 */
export interface StoredPostprocessing extends PostprocessingDecision {
  /**
   * 'best-epoch': the maps validation produced at the best epoch; 'predicted-after-training': the best
   * weights predicted the validation cases again (a resumed training whose best epoch came before the resume);
   * 'reference-protocol': kept for every label whatever the Dice says, with face connectivity, as the
   * reference always does (method.md section 6.3); the Dice before and after are measured all the same.
   */
  basis: 'best-epoch' | 'predicted-after-training' | 'reference-protocol';
}

/** The class index of the most probable class at each voxel (probabilities channel-major, class 0 first). */
export function argmaxClasses(probabilities: Float32Array, voxels: number, classes: number): Uint8Array {
  const out = new Uint8Array(voxels);
  for (let n = 0; n < voxels; n++) {
    let best = 0;
    let bestP = probabilities[n] as number;
    for (let k = 1; k < classes; k++) {
      const p = probabilities[k * voxels + n] as number;
      if (p > bestP) {
        bestP = p;
        best = k;
      }
    }
    out[n] = best;
  }
  return out;
}

/** core/metrics reads its first axis fastest; a network-order grid has its last axis (d3) fastest. */
function metricsShape(shape: Shape3): Vec3 {
  return [shape[2], shape[1], shape[0]];
}

/**
 * The decision for every foreground label of the plan, from the validation cases and their predicted class
 * maps (same order, same grids). Labels are decided on class indices and stored as the dataset's values.
 */
export function decideOnValidation(
  cases: readonly PreparedCase[],
  predictions: readonly Uint8Array[],
  plan: PreprocessingPlan,
  basis: StoredPostprocessing['basis'],
): StoredPostprocessing {
  const connectivity: Connectivity = basis === 'reference-protocol' ? 6 : DEFAULT_CONNECTIVITY;
  if (cases.length !== predictions.length) {
    throw new EmonasError(
      'internal',
      `${predictions.length} validation predictions for ${cases.length} validation cases`,
    );
  }
  const classes = plan.labels.map((_, k) => k).slice(1);
  const decision = decideLargestComponent(
    cases.map((c, n) => ({
      reference: { data: c.label.data, shape: metricsShape(c.label.shape), spacing: [1, 1, 1] },
      prediction: { data: predictions[n] as Uint8Array },
    })),
    classes,
    connectivity,
  );
  return {
    ...decision,
    labels: decision.labels.map((d) => ({
      ...d,
      label: plan.labels[d.label]?.value ?? d.label,
      ...(basis === 'reference-protocol' && { apply: true }),
    })),
    basis,
  };
}

/** The label values a stored decision keeps the largest component of (empty: none). */
export function keptLabels(decision: PostprocessingDecision): number[] {
  return decision.labels.filter((d) => d.apply).map((d) => d.label);
}
