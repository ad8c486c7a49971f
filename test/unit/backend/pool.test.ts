import { describe, expect, it } from 'vitest';
import { onBoth, tensor5, tf, values, worstError } from './compare.ts';

describe('3D max-pooling against the cpu backend', () => {
  it.each([
    { shape: [2, 8, 6, 4, 8], name: 'even sides' },
    { shape: [1, 7, 5, 9, 3], name: 'odd sides (the last plane, row and column are dropped)' },
    { shape: [1, 25, 17, 19, 3], name: 'odd sides and 3 channels, large' },
    { shape: [2, 24, 16, 12, 16], name: 'a level of a real network' },
  ])('2x2x2 stride 2 forward and gradient, $name', async ({ shape }) => {
    const x = values(shape, 13);
    const [cpu, fast] = await onBoth(() => {
      const t = tensor5(x, shape);
      const y = tf.maxPool3d(t, 2, 2, 'valid');
      const r = tf.tensor(values(y.shape, 14), y.shape);
      const [g] = tf.grads((a: tf.Tensor) =>
        tf.sum(tf.mul(tf.maxPool3d(a as tf.Tensor5D, 2, 2, 'valid'), r)),
      )([t]) as [tf.Tensor];
      return [y, g];
    });
    expect(worstError(cpu, fast)).toBe(0);
  });

  it.each([[[2, 6, 6, 6, 4]], [[2, 20, 16, 12, 6]]])(
    'sends the gradient of a tie to the same voxel as the cpu backend (after a ReLU), %j',
    async (shape) => {
      const x = values(shape, 15);
      const [cpu, fast] = await onBoth(() => {
        const t = tf.relu(tensor5(x, shape));
        const y = tf.maxPool3d(t, 2, 2, 'valid');
        const [g] = tf.grads((a: tf.Tensor) => tf.sum(tf.maxPool3d(a as tf.Tensor5D, 2, 2, 'valid')))([
          t,
        ]) as [tf.Tensor];
        return [y, g];
      });
      expect(worstError(cpu, fast)).toBe(0);
    },
  );

  it('leaves overlapping windows to the cpu backend, with the same result', async () => {
    const shape = [1, 7, 7, 7, 2];
    const x = values(shape, 16);
    const [cpu, fast] = await onBoth(() => [tf.maxPool3d(tensor5(x, shape), 3, 2, 'same')]);
    expect(worstError(cpu, fast)).toBe(0);
  });
});
