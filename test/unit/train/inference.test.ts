import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { predictProbabilities, windowStarts, type Predictor } from '../../../core/train/inference.ts';
import { gridSize, type Grid, type Shape3 } from '../../../core/datasets/pipeline/grid.ts';

/** A stand-in network: each voxel's class probabilities depend on its own intensity only. */
function voxelwise(head: 'softmax' | 'sigmoid'): Predictor & { shapes: number[][] } {
  const model = {
    shapes: [] as number[][],
    apply(x: tf.Tensor): tf.Tensor {
      model.shapes.push(x.shape);
      return tf.tidy(() => {
        const s = tf.sigmoid(x);
        return head === 'softmax' ? tf.concat([tf.sub(1, s), tf.mul(s, 0.75), tf.mul(s, 0.25)], 4) : s;
      });
    },
  };
  return model;
}

function ramp(shape: Shape3): Grid {
  const data = new Float32Array(gridSize(shape));
  for (let i = 0; i < data.length; i++) data[i] = ((i * 7) % 23) / 5 - 2;
  return { data, shape };
}

describe('sliding-window inference', () => {
  it('spreads windows evenly and covers the far edge', () => {
    expect(windowStarts(48, 64, 0.5)).toEqual([0]);
    expect(windowStarts(64, 64, 0.5)).toEqual([0]);
    expect(windowStarts(100, 32, 0.5)).toEqual([0, 14, 27, 41, 54, 68]);
  });

  it('predicts a case in one centred window of its own size, padded to the pooling multiple', async () => {
    await tf.setBackend('cpu');
    const small = voxelwise('softmax');
    await predictProbabilities(small, ramp([5, 6, 3]), {
      patch: [8, 8, 4],
      divisor: 4,
      head: 'softmax',
      classes: 3,
    });
    expect(small.shapes).toEqual([[1, 8, 8, 4, 1]]);
    // Larger than the patch along d1, but at most twice its voxels: still one window.
    const image = ramp([9, 6, 3]);
    const model = voxelwise('softmax');
    const p = await predictProbabilities(model, image, {
      patch: [8, 8, 4],
      divisor: 4,
      head: 'softmax',
      classes: 3,
    });
    expect(model.shapes).toEqual([[1, 12, 8, 4, 1]]);
    const v = gridSize(image.shape);
    for (let i = 0; i < v; i++) {
      const s = 1 / (1 + Math.exp(-(image.data[i] as number)));
      expect(p[i]).toBeCloseTo(1 - s, 5);
      expect(p[v + i]).toBeCloseTo(0.75 * s, 5);
      expect(p[2 * v + i]).toBeCloseTo(0.25 * s, 5);
    }
  });

  it('blends overlapping windows into the same answer for a larger case, sigmoid head included', async () => {
    const image = ramp([13, 9, 10]);
    const model = voxelwise('sigmoid');
    const p = await predictProbabilities(model, image, {
      patch: [8, 8, 4],
      divisor: 4,
      head: 'sigmoid',
      classes: 2,
    });
    expect(model.shapes).toHaveLength(3 * 2 * 4);
    expect(model.shapes.every((s) => s.join() === '1,8,8,4,1')).toBe(true);
    const v = gridSize(image.shape);
    for (let i = 0; i < v; i++) {
      const s = 1 / (1 + Math.exp(-(image.data[i] as number)));
      expect(p[v + i]).toBeCloseTo(s, 5);
      expect(p[i]).toBeCloseTo(1 - s, 5);
    }
  });
});
