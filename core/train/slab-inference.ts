// Runs in: a training worker or the process that predicts. The reference protocol's sliding window
// (method.md section 6.3): slabs of the training patch (128 x 128 x 16 on the reference's 128 x 128 x 64
// volumes) at a stride of the full slab in-plane and of one slice through-plane, after padding the volume
// with 15 (slab depth - 1) zero slices at the front only, so a volume of n slices takes n windows; the
// overlapping outputs are averaged with equal weights. The last slices are thus covered by fewer windows,
// as in the reference. In-plane, a volume narrower than the slab is centred in it and a wider one is tiled
// from its start (the reference has only 128-wide volumes, method.md section 6.2).
import * as tf from '@tensorflow/tfjs-core';
import { gridSize, type Grid, type Shape3 } from '../datasets/pipeline/grid.ts';
import { extractPatch, identityTransform } from '../datasets/pipeline/patch.ts';
import { slabStarts } from '../datasets/pipeline/slabs.ts';
import { accumulate, type InferenceOptions, type Predictor } from './inference.ts';

/** Slice starts of the windows over `slices` slices: from -(depth - 1) to slices - depth, one apart. */
export function slabWindowStarts(slices: number, depth: number): number[] {
  return Array.from({ length: slices }, (_, i) => i - (depth - 1));
}

/** Class probabilities channel-major over every class of the plan, background first, on the image's grid. */
export async function predictSlabWindows(
  model: Predictor,
  image: Grid,
  o: Pick<InferenceOptions, 'patch' | 'head' | 'classes'>,
): Promise<Float32Array> {
  const { patch: slab, classes } = o;
  const shape = image.shape;
  const v = gridSize(shape);
  const sum = new Float32Array(classes * v);
  const count = new Float32Array(v);
  const channels = o.head === 'softmax' ? classes : classes - 1;
  const inPlane = slabStarts([shape[0], shape[1], 1], [slab[0], slab[1], 1]);
  for (const [s0, s1] of inPlane)
    for (const s2 of slabWindowStarts(shape[2], slab[2])) {
      const origin: Shape3 = [s0, s1, s2];
      const voxels = extractPatch(image, undefined, slab, identityTransform(origin)).image;
      const output = tf.tidy(() => {
        const y = model.apply(tf.tensor5d(voxels, [1, slab[0], slab[1], slab[2], 1]), { training: false });
        return (Array.isArray(y) ? y[0] : y) as tf.Tensor;
      });
      const probs = (await output.data()) as Float32Array;
      output.dispose();
      accumulate(probs, channels, o.head, origin, slab, shape, sum, count, undefined);
    }
  for (let k = 0; k < classes; k++)
    for (let i = 0; i < v; i++) sum[k * v + i] = (sum[k * v + i] as number) / Math.max(1, count[i] as number);
  return sum;
}
