import { describe, expect, it } from 'vitest';
import { onBoth, tensor3, tf, values, worstError } from './compare.ts';

describe('reductions against the cpu backend', () => {
  const cases: [string, number[], number | number[] | undefined, boolean][] = [
    ['everything', [3, 4, 5], undefined, false],
    ['last axis', [300, 60], -1, false],
    ['first axis of [V, C] (Dice sums)', [20000, 3], 0, false],
    ['four axes of a 5-D tensor (bias gradient)', [2, 20, 16, 12, 8], [0, 1, 2, 3], false],
    ['the voxels of [B, V, C] (instance norm)', [2, 5000, 8], 1, true],
    ['the middle axes, keeping dims', [2, 20, 16, 12, 8], [1, 2, 3], true],
    ['non-adjacent axes', [4, 5, 6, 7], [0, 2], false],
    ['a large last axis', [3, 30000], 1, true],
  ];

  it.each(cases)('sum, mean, max and min over %s', async (_name, shape, axis, keepDims) => {
    const x = values(shape, 7);
    const [cpu, fast] = await onBoth(() => {
      const t = tf.tensor(x, shape);
      return [
        tf.sum(t, axis, keepDims),
        tf.mean(t, axis, keepDims),
        tf.max(t, axis, keepDims),
        tf.min(t, axis, keepDims),
      ];
    });
    expect(fast.map((v) => v.length)).toEqual(cpu.map((v) => v.length));
    expect(worstError(cpu, fast)).toBeLessThan(1e-6);
  });

  it('lets NaN win max and min, as the cpu backend does', async () => {
    const x = values([2, 20000], 8);
    x[5] = NaN;
    const [cpu, fast] = await onBoth(() => {
      const t = tf.tensor(x, [2, 20000]);
      return [tf.max(t, 1), tf.min(t, 1), tf.max(t, 0), tf.min(t, 0)];
    });
    expect(Number.isNaN(fast[0]?.[0])).toBe(true);
    expect(worstError(cpu, fast)).toBe(0);
  });

  it('softmax over the last axis, and its gradient', async () => {
    const shape = [2, 24, 20, 16, 3];
    const x = values(shape, 9).map((v) => 4 * v);
    const [cpu, fast] = await onBoth(() => {
      const t = tf.tensor(x, shape);
      const r = tf.tensor(values(shape, 10), shape);
      const [g] = tf.grads((a: tf.Tensor) => tf.sum(tf.mul(tf.softmax(a), r)))([t]) as [tf.Tensor];
      return [tf.softmax(t), g];
    });
    expect(worstError(cpu, fast)).toBeLessThan(1e-6);
  });
});

describe('matrix products against the cpu backend', () => {
  const cases: [string, number[], number[], boolean, boolean][] = [
    ['a mean over voxels: ones [B,1,V] x [B,V,C]', [2, 1, 9000], [2, 9000, 8], false, false],
    ['spreading per-channel values: [B,V,1] x [B,1,C]', [2, 9000, 1], [2, 1, 16], false, false],
    ['a general product on the engine', [2, 300, 40], [2, 40, 24], false, false],
    ['transposed left', [1, 40, 300], [1, 40, 24], true, false],
    ['transposed right', [1, 300, 40], [1, 24, 40], false, true],
    ['both transposed, batch broadcast', [1, 40, 300], [3, 24, 40], true, true],
    ['small', [2, 3, 4], [2, 4, 5], false, false],
  ];

  it.each(cases)('%s', async (_name, aShape, bShape, transposeA, transposeB) => {
    const av = values(aShape, 11);
    const bv = values(bShape, 12);
    const [cpu, fast] = await onBoth(() => [
      tf.matMul(tensor3(av, aShape), tensor3(bv, bShape), transposeA, transposeB),
    ]);
    expect(fast[0]?.length).toBe(cpu[0]?.length);
    expect(worstError(cpu, fast)).toBeLessThan(1e-5);
  });
});
