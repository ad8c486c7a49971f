// Runs in: a training worker (validation) or the process that predicts. Whole-volume or sliding-window
// inference. The networks are fully convolutional, so a case is predicted in one window of its own size
// (padded to a multiple of 2^pools) whenever that is at most 3x the training patch: instance norm then
// sees the whole case, as it saw most of a case in training, and memory stays near a training step's. A larger case is covered by patch-sized
// windows overlapping by half, blended with a Gaussian weight (nnU-Net's choice: window borders, which
// see less context, count less). Returns class probabilities channel-major over every class of the plan,
// background first, on the case's grid.
import * as tf from '@tensorflow/tfjs-core';
import { gridSize, type Grid, type Shape3 } from '../datasets/pipeline/grid.ts';
import { extractPatch, identityTransform } from '../datasets/pipeline/patch.ts';

/** A network applied to a batch of any spatial shape that is a multiple of `divisor`. */
export interface Predictor {
  apply(x: tf.Tensor, kwargs?: { training?: boolean }): unknown;
}

export interface InferenceOptions {
  patch: Shape3;
  /** 2^pools of the network: every window side is a multiple of it. */
  divisor: number;
  head: 'softmax' | 'sigmoid';
  /** Number of classes of the plan, background included. */
  classes: number;
  /** Fraction of a window shared with its neighbour along an axis. */
  overlap?: number;
}

/** A case padded to at most this many patches' voxels is predicted in one window. */
export const WHOLE_CASE_FACTOR = 3;

/** Window starts along one axis of padded length `length`, evenly spread from 0 to length - patch. */
export function windowStarts(length: number, patch: number, overlap: number): number[] {
  if (length <= patch) return [0];
  const step = Math.max(1, Math.floor(patch * (1 - overlap)));
  const count = Math.ceil((length - patch) / step) + 1;
  return Array.from({ length: count }, (_, i) => Math.round((i * (length - patch)) / (count - 1)));
}

function gaussian(n: number): Float32Array {
  const sigma = n / 8;
  const centre = (n - 1) / 2;
  const g = new Float32Array(n);
  for (let i = 0; i < n; i++) g[i] = Math.exp(-((i - centre) ** 2) / (2 * sigma * sigma)) + 1e-3;
  return g;
}

export async function predictProbabilities(
  model: Predictor,
  image: Grid,
  o: InferenceOptions,
): Promise<Float32Array> {
  const { patch, classes } = o;
  const shape = image.shape;
  const v = gridSize(shape);
  const whole = shape.map((n) => Math.ceil(n / o.divisor) * o.divisor) as Shape3;
  const single = gridSize(whole) <= WHOLE_CASE_FACTOR * gridSize(patch);
  const window: Shape3 = single ? whole : patch;
  const padded = [0, 1, 2].map((d) => Math.max(shape[d] as number, window[d] as number));
  const offset = [0, 1, 2].map((d) => Math.floor(((padded[d] as number) - (shape[d] as number)) / 2));
  const starts = [0, 1, 2].map((d) =>
    windowStarts(padded[d] as number, window[d] as number, o.overlap ?? 0.5),
  );
  const weights = single ? undefined : [gaussian(patch[0]), gaussian(patch[1]), gaussian(patch[2])];
  const sum = new Float32Array(classes * v);
  const weightSum = single ? undefined : new Float32Array(v);
  for (const s0 of starts[0] as number[])
    for (const s1 of starts[1] as number[])
      for (const s2 of starts[2] as number[]) {
        const origin: Shape3 = [
          s0 - (offset[0] as number),
          s1 - (offset[1] as number),
          s2 - (offset[2] as number),
        ];
        const voxels = extractPatch(image, undefined, window, identityTransform(origin)).image;
        const output = tf.tidy(() => {
          const x = tf.tensor5d(voxels, [1, window[0], window[1], window[2], 1]);
          const y = model.apply(x, { training: false });
          return (Array.isArray(y) ? y[0] : y) as tf.Tensor;
        });
        const probs = (await output.data()) as Float32Array;
        output.dispose();
        const channels = o.head === 'softmax' ? classes : 1;
        accumulate(probs, channels, o.head, origin, window, shape, sum, weightSum, weights);
      }
  if (weightSum) {
    for (let k = 0; k < classes; k++)
      for (let i = 0; i < v; i++) sum[k * v + i] = (sum[k * v + i] as number) / (weightSum[i] as number);
  }
  return sum;
}

/**
 * Adds one window's network output (voxel-major, `channels` per voxel) at `origin` into the class
 * probabilities `sum` (channel-major over every class), weighted per axis by `weights` (none: 1), and the
 * weights into `weightSum`.
 */
export function accumulate(
  probs: Float32Array,
  channels: number,
  head: 'softmax' | 'sigmoid',
  origin: Shape3,
  patch: Shape3,
  shape: Shape3,
  sum: Float32Array,
  weightSum: Float32Array | undefined,
  weights: Float32Array[] | undefined,
): void {
  const v = gridSize(shape);
  for (let a = 0; a < patch[0]; a++) {
    const i = origin[0] + a;
    if (i < 0 || i >= shape[0]) continue;
    for (let b = 0; b < patch[1]; b++) {
      const j = origin[1] + b;
      if (j < 0 || j >= shape[1]) continue;
      for (let c = 0; c < patch[2]; c++) {
        const k = origin[2] + c;
        if (k < 0 || k >= shape[2]) continue;
        const w = weights
          ? (weights[0]![a] as number) * (weights[1]![b] as number) * (weights[2]![c] as number)
          : 1;
        const voxel = (i * shape[1] + j) * shape[2] + k;
        const at = ((a * patch[1] + b) * patch[2] + c) * channels;
        if (head === 'softmax') {
          for (let ch = 0; ch < channels; ch++)
            sum[ch * v + voxel] = (sum[ch * v + voxel] as number) + w * (probs[at + ch] as number);
        } else {
          for (let ch = 0; ch < channels; ch++) {
            const p = probs[at + ch] as number;
            sum[(ch + 1) * v + voxel] = (sum[(ch + 1) * v + voxel] as number) + w * p;
            if (ch === 0) sum[voxel] = (sum[voxel] as number) + w * (1 - p);
          }
        }
        if (weightSum) weightSum[voxel] = (weightSum[voxel] as number) + w;
      }
    }
  }
}
