import { dispose, memory, oneHot, randomNormal, randomUniformInt, train } from '@tensorflow/tfjs-core';
import type { Tensor } from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildModel } from '../../../core/nn/build-model.ts';
import { builtinGenome } from '../../../core/nn/builtin-genomes.ts';
import { useCpuBackend } from './cpu-backend.ts';

describe('training the small built-in network', () => {
  beforeAll(useCpuBackend);

  // About 10 s per step on an idle 2-core machine: the cpu backend's Conv3D is a plain loop.
  it(
    'fits two steps on a 32^3 patch with a finite loss, updates every layer kind, and leaks no tensors',
    { timeout: 180_000 },
    async () => {
      const model = buildModel(builtinGenome('small'), {
        inputShape: [32, 32, 32, 1],
        classes: 3,
        head: 'softmax',
        seed: 3,
      });
      model.compile({ optimizer: train.adam(4e-4), loss: 'categoricalCrossentropy' });
      const x = randomNormal([1, 32, 32, 32, 1], 0, 1, 'float32', 1);
      const labels = randomUniformInt([1, 32, 32, 32], 0, 3, 2);
      const y = oneHot(labels, 3);
      const kernels = ['stem_conv1', 'cell0_node2_conv2', 'up0', 'head'];
      const snapshot = (): Float32Array[] =>
        kernels.map((name) => (model.getLayer(name).getWeights()[0] as Tensor).dataSync() as Float32Array);

      const initial = snapshot();
      const first = await model.fit(x, y, { batchSize: 1, epochs: 1, verbose: 0 });
      // The first step creates Adam's moments; from then on a step must leave the tensor count unchanged.
      const tensorsBefore = memory().numTensors;
      const second = await model.fit(x, y, { batchSize: 1, epochs: 1, verbose: 0 });
      expect(memory().numTensors).toBe(tensorsBefore);

      const losses = [first, second].flatMap((history) => history.history.loss ?? []);
      expect(losses).toHaveLength(2);
      for (const loss of losses) expect(Number.isFinite(loss)).toBe(true);
      // Cross-entropy of a 3-class guess starts near ln 3.
      expect(losses[0]).toBeGreaterThan(0.5);
      expect(losses[0]).toBeLessThan(5);
      snapshot().forEach((after, i) =>
        expect(Array.from(after), kernels[i]).not.toEqual(Array.from(initial[i] ?? [])),
      );

      dispose([x, labels, y]);
      model.dispose();
    },
  );
});
