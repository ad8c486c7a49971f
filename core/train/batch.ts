// Runs in: a training worker. A training batch: each patch drawn as the job's protocol draws it (the patch
// sampler with foreground oversampling for 'emonas', a uniform augmented slab for 'reference'), then the
// image and one-hot (or, for the reference's interpolated masks, soft) targets as tensors.
import * as tf from '@tensorflow/tfjs-core';
import type { RandomStream } from '../base/random.ts';
import { gridSize, type Shape3 } from '../datasets/pipeline/grid.ts';
import type { Patch } from '../datasets/pipeline/patch.ts';
import type { PreparedCase } from '../datasets/pipeline/prepared-case.ts';
import { sampleSlab, REFERENCE_SLAB_AUGMENTATION } from '../datasets/pipeline/slab-patch.ts';
import { samplePatch } from '../datasets/pipeline/sampling.ts';
import type { TrainSettings } from './job.ts';
import { protocolOf } from './setup/protocol.ts';

/** One training patch of a case under the settings' protocol; `classes` counts background. */
export function drawPatch(c: PreparedCase, rng: RandomStream, s: TrainSettings, classes: number): Patch {
  if (protocolOf(s) === 'reference') {
    return sampleSlab(c, classes, rng, s.patch, s.slabAugmentation ?? REFERENCE_SLAB_AUGMENTATION);
  }
  return samplePatch(c, rng, {
    patch: s.patch,
    foregroundProbability: s.foregroundProbability,
    augmentation: s.augmentation,
  });
}

/** The network channel of class k (-1: none, the background under a sigmoid head). */
function channelOf(k: number, head: 'softmax' | 'sigmoid'): number {
  return head === 'softmax' ? k : k - 1;
}

/**
 * x [batch, d1, d2, d3, 1] and y [batch, d1, d2, d3, channels]: one-hot from a patch's class map, or its
 * soft targets as they are.
 */
export function batchTensors(
  patches: Patch[],
  patch: Shape3,
  channels: number,
  classes: number,
  head: 'softmax' | 'sigmoid',
): { x: tf.Tensor5D; y: tf.Tensor5D } {
  const v = gridSize(patch);
  const x = new Float32Array(patches.length * v);
  const y = new Float32Array(patches.length * v * channels);
  patches.forEach((p, b) => {
    x.set(p.image, b * v);
    for (let n = 0; n < v; n++) {
      const at = (b * v + n) * channels;
      if (p.target) {
        for (let k = 0; k < classes; k++) {
          const channel = channelOf(k, head);
          if (channel >= 0) y[at + channel] = p.target[n * classes + k] as number;
        }
        continue;
      }
      const channel = channelOf((p.label as Uint8Array)[n] as number, head);
      if (channel >= 0) y[at + channel] = 1;
    }
  });
  const shape: [number, number, number, number, number] = [patches.length, patch[0], patch[1], patch[2], 1];
  return { x: tf.tensor5d(x, shape), y: tf.tensor5d(y, [...shape.slice(0, 4), channels] as typeof shape) };
}
