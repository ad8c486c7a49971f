import { describe, expect, it } from 'vitest';
import { FAST, tf, values } from './compare.ts';
import { fastCpuEngine } from '../../../core/backend/index.ts';
import { buildModel } from '../../../core/nn/build-model.ts';
import { BUILTIN_GENOMES } from '../../../core/nn/builtin-genomes.ts';

const SHAPE: [number, number, number] = [8, 12, 8];

/** Losses of two Adam steps of the small built-in genome (stem, cells, pools, up-convolutions, instance norm). */
async function trainTwoSteps(backend: string): Promise<number[]> {
  await tf.setBackend(backend);
  const model = buildModel(BUILTIN_GENOMES.small, {
    inputShape: [...SHAPE, 1],
    classes: 3,
    head: 'softmax',
    seed: 3,
  });
  const x = tf.tensor(values([2, ...SHAPE, 1], 21), [2, ...SHAPE, 1]);
  const labels = tf.tensor(
    Int32Array.from(values([2, ...SHAPE], 22), (v) => Math.floor((v + 1) * 1.5)),
    [2, ...SHAPE],
    'int32',
  );
  const y = tf.oneHot(labels, 3);
  const optimizer = tf.train.adam(1e-2);
  const losses: number[] = [];
  for (let step = 0; step < 3; step++) {
    const cost = optimizer.minimize(() => {
      const p = model.apply(x) as tf.Tensor;
      return tf.losses.softmaxCrossEntropy(y, tf.log(tf.add(p, 1e-7))) as tf.Scalar;
    }, true);
    losses.push((cost as tf.Scalar).dataSync()[0] as number);
    cost?.dispose();
  }
  optimizer.dispose();
  model.dispose();
  tf.dispose([x, labels, y]);
  return losses;
}

describe('training on emonas-cpu', () => {
  it('runs the fused multiply-add build (relaxed SIMD) on this Node', () => {
    expect(fastCpuEngine()?.fused).toBe(true);
  });

  it('gives the losses of the cpu backend, step after step', async () => {
    const reference = await trainTwoSteps('cpu');
    const fast = await trainTwoSteps(FAST);
    expect(reference[2]).not.toBeCloseTo(reference[0] as number, 3);
    for (let i = 0; i < reference.length; i++) {
      expect(
        Math.abs((fast[i] as number) - (reference[i] as number)) / Math.abs(reference[i] as number),
      ).toBeLessThan(1e-4);
    }
  });

  it('leaks no tensor and no heap block', async () => {
    await trainTwoSteps(FAST);
    const heap = fastCpuEngine()?.heap;
    const tensors = tf.memory().numTensors;
    const blocks = heap?.blocksInUse;
    await trainTwoSteps(FAST);
    expect(tf.memory().numTensors).toBe(tensors);
    expect(heap?.blocksInUse).toBe(blocks);
  });

  it('hands out copies, so values kept after dispose never change', async () => {
    await tf.setBackend(FAST);
    const t = tf.add(tf.tensor(values([40000], 23)), 1);
    const kept = t.dataSync();
    const first = Array.from(kept.subarray(0, 8));
    t.dispose();
    const other = tf.mul(tf.tensor(values([40000], 24)), 3);
    expect(Array.from(kept.subarray(0, 8))).toEqual(first);
    other.dispose();
  });

  it('keeps a slice valid after its source is disposed', async () => {
    await tf.setBackend(FAST);
    const source = tf.add(tf.tensor(values([4, 20000], 25), [4, 20000]), 0);
    const expected = Array.from(source.dataSync().subarray(20000, 20010));
    const row = tf.slice(source, [1, 0], [1, 20000]);
    source.dispose();
    const overwrite = tf.mul(tf.tensor(values([4, 20000], 26), [4, 20000]), 5);
    expect(Array.from(row.dataSync().subarray(0, 10))).toEqual(expected);
    tf.dispose([row, overwrite]);
  });
});
