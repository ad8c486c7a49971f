// Runs in: a training worker, or whatever process predicts. Applies a plan to one case already in the
// canonical orientation, and undoes it for a prediction: class probabilities on the plan's grid go back
// to the case's canonical voxel grid (linear resampling of each class, then argmax, so a resampled label
// map never comes from interpolating class numbers).
import { EmonasError } from '../../base/errors.ts';
import type { VoxelArray } from '../../io/volume.ts';
import { fromGrid, gridSize, toGrid, type Grid, type Shape3 } from './grid.ts';
import { zScoreInPlace } from './normalise.ts';
import { resampledShape, type PreprocessingPlan } from './plan.ts';
import { indexForeground, type PreparedCase } from './prepared-case.ts';
import {
  preprocessReferenceImage,
  preprocessReferenceLabel,
  restoreReferenceLabelMap,
} from './protocol-plan.ts';
import { resampleLinear, resampleNearest } from './resample.ts';

/** What prediction needs to map a result on the plan's grid back onto the case's canonical grid. */
export interface PreprocessRecord {
  /** The canonical volume's shape (i, j, k). */
  canonicalShape: Shape3;
  /** Network-order shape before resampling. */
  gridShape: Shape3;
  /** Network-order shape after resampling: the grid the network sees. */
  shape: Shape3;
  /** The canonical volume's spacing, kept under a reference plan (protocol-plan.ts) to undo its resampling. */
  spacing?: Shape3;
}

export interface CanonicalInput {
  data: VoxelArray;
  shape: Shape3;
  spacing: Shape3;
}

export function preprocessImage(
  image: CanonicalInput,
  plan: PreprocessingPlan,
  file = 'the image',
): { grid: Grid; record: PreprocessRecord } {
  if (plan.reference) return preprocessReferenceImage(image, plan.reference, file);
  const raw = toGrid(image.data, image.shape, plan.axisOrder, new Float32Array(image.data.length));
  const shape = resampledShape(image, plan.axisOrder, plan.targetSpacing);
  const grid = sameShape(raw.shape, shape) ? raw : resampleLinear(raw, shape);
  zScoreInPlace(grid.data);
  return { grid, record: { canonicalShape: [...image.shape], gridShape: raw.shape, shape } };
}

/** Label values become class indices (positions in plan.labels); an undeclared value is an error. */
export function preprocessLabel(
  label: CanonicalInput,
  plan: PreprocessingPlan,
  record: PreprocessRecord,
  file: string,
): Grid<Uint8Array> {
  if (!sameShape(label.shape, record.canonicalShape)) {
    throw new EmonasError(
      'geometry_mismatch',
      `The label map ${file} has ${label.shape.join(' x ')} voxels but its image has ${record.canonicalShape.join(' x ')}; they must share one grid.`,
      { file },
    );
  }
  if (plan.reference) return preprocessReferenceLabel(label, plan.reference, file);
  const classOf = new Map(plan.labels.map((l, k) => [l.value, k]));
  const classes = new Uint8Array(label.data.length);
  const unknown = new Set<number>();
  for (let i = 0; i < label.data.length; i++) {
    const k = classOf.get(label.data[i] as number);
    if (k === undefined) unknown.add(label.data[i] as number);
    else classes[i] = k;
  }
  if (unknown.size > 0) {
    throw new EmonasError(
      'invalid_dataset',
      `The label map ${file} holds values ${[...unknown].slice(0, 10).join(', ')} that the dataset does not declare (declared: ${plan.labels.map((l) => l.value).join(', ')}).`,
      { file },
    );
  }
  const raw = toGrid(classes, label.shape, plan.axisOrder, new Uint8Array(classes.length));
  return sameShape(raw.shape, record.shape) ? raw : resampleNearest(raw, record.shape);
}

export function prepareCase(
  id: string,
  image: CanonicalInput,
  label: CanonicalInput,
  plan: PreprocessingPlan,
  labelFile: string,
): PreparedCase {
  const { grid, record } = preprocessImage(image, plan, `the image of ${id}`);
  const labelGrid = preprocessLabel(label, plan, record, labelFile);
  return {
    id,
    image: grid,
    label: labelGrid,
    foreground: indexForeground(labelGrid.data, plan.labels.length),
  };
}

/**
 * Class probabilities on the network grid (channel-major: class k occupies [k * V, (k + 1) * V)) to a label
 * map with the dataset's label values, in the canonical volume's voxel order.
 */
export function restoreLabelMap(
  probabilities: Float32Array,
  record: PreprocessRecord,
  plan: PreprocessingPlan,
): { data: Uint8Array; shape: Shape3 } {
  if (plan.reference) return restoreReferenceLabelMap(probabilities, record, plan, plan.reference);
  const classes = plan.labels.length;
  const resampled = !sameShape(record.gridShape, record.shape);
  const n = gridSize(record.gridShape);
  const v = gridSize(record.shape);
  const channels: Float32Array[] = [];
  for (let k = 0; k < classes; k++) {
    const channel = probabilities.subarray(k * v, (k + 1) * v);
    channels.push(
      resampled ? resampleLinear({ data: channel, shape: record.shape }, record.gridShape).data : channel,
    );
  }
  const out = new Uint8Array(n);
  const values = plan.labels.map((l) => l.value);
  for (let i = 0; i < n; i++) {
    let best = 0;
    let bestP = (channels[0] as Float32Array)[i] as number;
    for (let k = 1; k < classes; k++) {
      const p = (channels[k] as Float32Array)[i] as number;
      if (p > bestP) {
        bestP = p;
        best = k;
      }
    }
    out[i] = values[best] as number;
  }
  return fromGrid({ data: out, shape: record.gridShape }, plan.axisOrder, new Uint8Array(n));
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a[0] === b[0] && a[1] === b[1] && a[2] === b[2];
}
