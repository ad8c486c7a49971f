// Runs in: a training worker (or a test, in process). The reference protocol's validation (method.md
// section 5.1): the validation volumes cut into non-overlapping slabs (core/datasets/pipeline/slabs.ts),
// served in batches of the training batch size, the validation loss the mean batch Dice loss over them
// (each batch's Dice over all its slabs' voxels, as Keras' evaluation averages batch losses). The Dice shown
// per label is hard and pooled over every validation voxel: a hard Dice per batch would score 0 for a pair
// of slabs without the structure and one false voxel, and its mean read far below what the weights segment
// (0.03 against 0.15 on the same cases in one measurement). The reference serves the slabs through a shuffling generator; here they come in a fixed order (case by case, slices in
// order), so consecutive slabs of a volume share a batch and an epoch's validation does not depend on a
// shuffle. The slabs' argmax maps are put back together into each case's class map for the
// post-processing record.
import * as tf from '@tensorflow/tfjs-core';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { EmonasError } from '../base/errors.ts';
import { gridSize, type Shape3 } from '../datasets/pipeline/grid.ts';
import type { PreparedCase } from '../datasets/pipeline/prepared-case.ts';
import { validationSlabs, type ValidationSlab } from '../datasets/pipeline/slabs.ts';
import { batchTensors } from './batch.ts';
import { outputChannels, type TrainJob } from './job.ts';
import { softDiceLoss } from './loss.ts';

export interface Validation {
  valLoss: number;
  /** Hard Dice per foreground label name, pooled over every validation voxel. */
  valDice: Record<string, number>;
  /** Each case's argmax class map on its grid. */
  labelMaps: Uint8Array[];
}

// The slabs of a validation set are cut once and reused every epoch.
const cut = new WeakMap<readonly PreparedCase[], ValidationSlab[]>();

function slabsOf(cases: readonly PreparedCase[], slab: Shape3): ValidationSlab[] {
  const known = cut.get(cases);
  if (known) return known;
  const slabs = validationSlabs(cases, slab);
  cut.set(cases, slabs);
  return slabs;
}

/** The class at one voxel of a network output (`channels` values from `at`), as inference.ts ranks them. */
function classAt(out: Float32Array, at: number, channels: number, head: 'softmax' | 'sigmoid'): number {
  let best = 0;
  let bestP = head === 'softmax' ? (out[at] as number) : 1 - (out[at] as number);
  for (let ch = head === 'softmax' ? 1 : 0; ch < channels; ch++) {
    const p = out[at + ch] as number;
    if (p > bestP) {
      bestP = p;
      best = head === 'softmax' ? ch : ch + 1;
    }
  }
  return best;
}

export async function validateOnSlabs(
  model: LayersModel,
  cases: readonly PreparedCase[],
  job: TrainJob,
  labelNames: string[],
  signal: AbortSignal | undefined,
): Promise<Validation> {
  const { plan, settings } = job;
  const slab = settings.patch;
  const classes = plan.labels.length;
  const channels = outputChannels(plan.head, classes);
  const slabs = slabsOf(cases, slab);
  const v = gridSize(slab);
  const labelMaps = cases.map((c) => new Uint8Array(c.label.data.length));
  const both = new Float64Array(classes);
  const predicted = new Float64Array(classes);
  const truth = new Float64Array(classes);
  let lossSum = 0;
  for (let first = 0; first < slabs.length; first += settings.batchSize) {
    if (signal?.aborted) throw new EmonasError('cancelled', 'Training was cancelled.');
    const group = slabs.slice(first, first + settings.batchSize);
    const { x, y } = batchTensors(
      group.map((g) => g.patch),
      slab,
      channels,
      classes,
      plan.head,
    );
    const output = tf.tidy(() => model.apply(x, { training: false }) as tf.Tensor);
    const loss = softDiceLoss(y, output, plan.head);
    lossSum += ((await loss.data())[0] as number) * group.length;
    const out = (await output.data()) as Float32Array;
    tf.dispose([x, y, output, loss]);
    group.forEach((g, b) => {
      const c = cases[g.caseIndex] as PreparedCase;
      const label = g.patch.label as Uint8Array;
      for (let n = 0; n < v; n++) {
        const k = classAt(out, (b * v + n) * channels, channels, plan.head);
        const t = label[n] as number;
        predicted[k] = (predicted[k] as number) + 1;
        truth[t] = (truth[t] as number) + 1;
        if (k === t) both[k] = (both[k] as number) + 1;
        writeBack(labelMaps[g.caseIndex] as Uint8Array, c.label.shape, slab, g.start, n, k);
      }
    });
  }
  const valDice: Record<string, number> = {};
  labelNames.forEach((name, i) => {
    const denominator = (predicted[i + 1] as number) + (truth[i + 1] as number);
    valDice[name] = denominator === 0 ? 1 : (2 * (both[i + 1] as number)) / denominator;
  });
  return { valLoss: slabs.length === 0 ? 1 : lossSum / slabs.length, valDice, labelMaps };
}

/** Puts slab voxel n's class into its case's map, when that voxel lies inside the case. */
function writeBack(map: Uint8Array, shape: Shape3, slab: Shape3, start: Shape3, n: number, k: number): void {
  const c = n % slab[2];
  const b = Math.floor(n / slab[2]) % slab[1];
  const a = Math.floor(n / (slab[1] * slab[2]));
  const i = start[0] + a;
  const j = start[1] + b;
  const l = start[2] + c;
  if (i < 0 || i >= shape[0] || j < 0 || j >= shape[1] || l < 0 || l >= shape[2]) return;
  map[(i * shape[1] + j) * shape[2] + l] = k;
}
