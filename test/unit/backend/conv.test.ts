import { describe, expect, it } from 'vitest';
import { onBoth, tensor5, tf, values, worstError } from './compare.ts';
import { OP_KERNELS } from '../../../core/nn/op-kernels.ts';
import '../../../core/nn/conv3d-transpose-grad.ts';

type Kernel = readonly [number, number, number];

/** Every kernel shape of the search space (method.md section 2.2), from core/nn's own table. */
const KERNELS: Kernel[] = [];
for (const kernels of Object.values(OP_KERNELS)) {
  for (const k of kernels) if (!KERNELS.some((q) => q.join() === k.join())) KERNELS.push(k);
}

/** Input and output channels, from the 1-channel stem to a deep level; odd ones included. */
const CHANNELS: [number, number][] = [
  [1, 8],
  [3, 5],
  [8, 8],
  [16, 16],
  [12, 20],
  [32, 32],
];

/** Value and gradients (input, filter) of sum(conv3d(x, w) * r), so forward and both backprops are checked. */
function convAndGrads(
  xShape: number[],
  kernel: Kernel,
  cin: number,
  cout: number,
  strides: number,
  pad: 'same' | 'valid',
  seed: number,
) {
  const wShape = [...kernel, cin, cout];
  const xv = values(xShape, seed);
  const wv = values(wShape, seed + 1);
  return () => {
    const x = tensor5(xv, xShape);
    const w = tensor5(wv, wShape);
    const y = tf.conv3d(x, w, strides as 1, pad);
    const r = tf.tensor(values(y.shape, seed + 2), y.shape);
    const f = (a: tf.Tensor, b: tf.Tensor) =>
      tf.sum(tf.mul(tf.conv3d(a as tf.Tensor5D, b as tf.Tensor5D, strides as 1, pad), r));
    const [dx, dw] = tf.grads(f)([x, w]) as [tf.Tensor, tf.Tensor];
    return [y, dx, dw];
  };
}

describe('3D convolution kernels against the cpu backend', () => {
  it('covers the search space: 1x1x1, 3x3x3, 5x5x5, 3x3x1, 5x5x1, 7x7x1, 1x1x3, 1x1x5, 1x1x7', () => {
    expect(KERNELS.map((k) => k.join('x')).sort()).toEqual(
      ['1x1x1', '1x1x3', '1x1x5', '1x1x7', '3x3x1', '3x3x3', '5x5x1', '5x5x5', '7x7x1'].sort(),
    );
  });

  // Each kernel with three channel pairs and both batch sizes, on odd-sized volumes.
  const cases = KERNELS.flatMap((kernel, i) =>
    [0, 1, 2].map((j) => {
      const [cin, cout] = CHANNELS[(i + 2 * j) % CHANNELS.length] as [number, number];
      const batch = 1 + ((i + j) % 2);
      const shape = [batch, 5 + (j % 2), 7 - j, 6 + j, cin];
      return { kernel, cin, cout, shape };
    }),
  );

  it.each(cases)(
    'kernel $kernel, $cin -> $cout channels, input $shape',
    async ({ kernel, cin, cout, shape }) => {
      const [cpu, fast] = await onBoth(convAndGrads(shape, kernel, cin, cout, 1, 'same', cin * 7 + cout));
      expect(fast.map((v) => v.length)).toEqual(cpu.map((v) => v.length));
      expect(worstError(cpu, fast)).toBeLessThan(1e-4);
    },
  );

  // 3x3x3 with channel counts divisible by 4 goes through Winograd's F(2x2x2, 3x3x3): odd sides leave
  // partial 2x2x2 tiles at every edge.
  it.each([
    { shape: [2, 5, 7, 9, 8], cin: 8, cout: 12 },
    { shape: [1, 6, 5, 4, 16], cin: 16, cout: 8 },
    { shape: [2, 9, 4, 7, 4], cin: 4, cout: 32 },
  ])('3x3x3 by Winograd: $cin -> $cout channels, input $shape', async ({ shape, cin, cout }) => {
    const [cpu, fast] = await onBoth(convAndGrads(shape, [3, 3, 3], cin, cout, 1, 'same', cin + cout));
    expect(worstError(cpu, fast)).toBeLessThan(1e-4);
  });

  it('also takes valid padding and anisotropic kernels with even sizes', async () => {
    const [cpu, fast] = await onBoth(convAndGrads([2, 7, 8, 9, 3], [2, 3, 2], 3, 9, 1, 'valid', 5));
    expect(worstError(cpu, fast)).toBeLessThan(1e-4);
  });

  it('computes the strided convolution that is the transposed convolution gradient', async () => {
    const [cpu, fast] = await onBoth(convAndGrads([2, 8, 6, 4, 6], [2, 2, 2], 6, 4, 2, 'same', 9));
    expect(worstError(cpu, fast)).toBeLessThan(1e-4);
  });
});

describe('transposed 3D convolution (2x2x2, stride 2) against the cpu backend', () => {
  it.each([
    { shape: [2, 3, 4, 5, 16], cin: 16, cout: 8 },
    { shape: [1, 2, 3, 2, 3], cin: 3, cout: 5 },
    { shape: [2, 3, 2, 3, 32], cin: 32, cout: 16 },
  ])('input $shape to $cout channels, with gradients', async ({ shape, cin, cout }) => {
    const xv = values(shape, cin);
    const wShape = [2, 2, 2, cout, cin];
    const wv = values(wShape, cout);
    const outShape = [
      shape[0],
      (shape[1] as number) * 2,
      (shape[2] as number) * 2,
      (shape[3] as number) * 2,
      cout,
    ] as [number, number, number, number, number];
    const [cpu, fast] = await onBoth(() => {
      const x = tensor5(xv, shape);
      const w = tensor5(wv, wShape);
      const r = tf.tensor(values(outShape, 3), outShape);
      const f = (a: tf.Tensor, b: tf.Tensor) =>
        tf.sum(tf.mul(tf.conv3dTranspose(a as tf.Tensor5D, b as tf.Tensor5D, outShape, 2, 'same'), r));
      const y = tf.conv3dTranspose(x, w, outShape, 2, 'same');
      const [dx, dw] = tf.grads(f)([x, w]) as [tf.Tensor, tf.Tensor];
      return [y, dx, dw];
    });
    expect(worstError(cpu, fast)).toBeLessThan(1e-4);
  });
});
