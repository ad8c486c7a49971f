import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { softDiceLoss } from '../../../core/train/loss.ts';
import { caseDice } from '../../../core/train/dice.ts';

describe('soft multi-class Dice loss', () => {
  it('averages the batch soft Dice of the foreground classes and ignores background', async () => {
    await tf.setBackend('cpu');
    // 2 samples x 2 voxels, 3 classes (background first).
    const y = [1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 1, 0];
    const p = [0.6, 0.3, 0.1, 0.2, 0.7, 0.1, 0.1, 0.1, 0.8, 0.3, 0.3, 0.4];
    const loss = softDiceLoss(tf.tensor5d(y, [2, 2, 1, 1, 3]), tf.tensor5d(p, [2, 2, 1, 1, 3]), 'softmax');
    const dice = (k: number): number => {
      let inter = 0;
      let yy = 0;
      let pp = 0;
      for (let v = 0; v < 4; v++) {
        inter += (y[v * 3 + k] as number) * (p[v * 3 + k] as number);
        yy += (y[v * 3 + k] as number) ** 2;
        pp += (p[v * 3 + k] as number) ** 2;
      }
      return (2 * inter + 0.5) / (yy + pp + 0.5);
    };
    expect((await loss.data())[0]).toBeCloseTo(1 - (dice(1) + dice(2)) / 2, 6);
    const perfect = softDiceLoss(tf.tensor5d(y, [2, 2, 1, 1, 3]), tf.tensor5d(y, [2, 2, 1, 1, 3]), 'softmax');
    expect((await perfect.data())[0]).toBeCloseTo(0, 6);
    const sigmoid = softDiceLoss(
      tf.tensor5d([1, 0, 1], [1, 3, 1, 1, 1]),
      tf.tensor5d([0.9, 0.2, 0.5], [1, 3, 1, 1, 1]),
      'sigmoid',
    );
    expect((await sigmoid.data())[0]).toBeCloseTo(1 - (2 * 1.4 + 0.5) / (2 + 0.81 + 0.04 + 0.25 + 0.5), 6);
  });
});

describe('validation Dice of a whole case', () => {
  it('gives soft and hard Dice per foreground class, 1 when a class is absent from both', () => {
    // 4 voxels, classes: 0 background, 1, 2; class 2 absent from truth and prediction.
    const label = new Uint8Array([0, 1, 1, 0]);
    const p = new Float32Array([
      // class 0
      0.9, 0.2, 0.6, 0.7,
      // class 1
      0.1, 0.7, 0.3, 0.2,
      // class 2
      0, 0.1, 0.1, 0.1,
    ]);
    const d = caseDice(p, label, 3);
    // argmax: 0, 1, 0, 0 -> class 1 hard Dice 2*1 / (2 + 1)
    expect(d.hard[0]).toBeCloseTo(2 / 3, 12);
    expect(d.hard[1]).toBe(1);
    expect(d.soft[0]).toBeCloseTo((2 * 1.0 + 0.5) / (2 + 0.01 + 0.49 + 0.09 + 0.04 + 0.5), 6);
  });
});
