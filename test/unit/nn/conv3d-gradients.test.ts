import { add, conv3d, conv3dTranspose, grads, tensor, tidy } from '@tensorflow/tfjs-core';
import type { Tensor, Tensor5D } from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import '../../../core/nn/conv3d-transpose-grad.ts';
import { RandomStream } from '../../../core/base/random.ts';
import { useCpuBackend } from './cpu-backend.ts';

type Shape5 = [number, number, number, number, number];

function randomTensor(shape: Shape5, random: RandomStream): Tensor5D {
  const values = Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => random.normal());
  return tensor(values, shape) as Tensor5D;
}

function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += (a[i] ?? 0) * (b[i] ?? 0);
  return sum;
}

/**
 * L = sum(R * y + y^2 / 2), evaluated in float64 from y's float32 values. Both ops are linear in each
 * argument, so L is quadratic in it and central differences are exact but for rounding, whatever the step:
 * a step of 0.5 keeps float32 rounding of y (about 1e-7 relative, over at most a few hundred terms) far
 * below the 2e-3 tolerance used below.
 */
function loss(y: Tensor, r: Float32Array): number {
  const values = y.dataSync();
  let sum = 0;
  for (let i = 0; i < values.length; i++) sum += (r[i] ?? 0) * (values[i] ?? 0) + 0.5 * (values[i] ?? 0) ** 2;
  return sum;
}

/** Analytic gradients of L (dL/dy = R + y) against central differences at `probes` random entries of each input. */
function checkGradients(
  f: (a: Tensor5D, b: Tensor5D) => Tensor,
  inputs: [Tensor5D, Tensor5D],
  random: RandomStream,
  probes = 12,
): void {
  const y = f(...inputs);
  const r = Float32Array.from({ length: y.size }, () => random.normal());
  const dy = tidy(() => add(tensor(r, y.shape), y));
  const analytic = grads((a: Tensor, b: Tensor) => f(a as Tensor5D, b as Tensor5D))(inputs, dy).map((g) =>
    g.dataSync(),
  );
  const step = 0.5;
  inputs.forEach((input, which) => {
    const base = input.dataSync().slice();
    for (let p = 0; p < probes; p++) {
      const i = random.int(base.length);
      const shifted = (delta: number): number => {
        const values = base.slice();
        values[i] = (values[i] ?? 0) + delta;
        const moved = tensor(values, input.shape) as Tensor5D;
        const args: [Tensor5D, Tensor5D] = which === 0 ? [moved, inputs[1]] : [inputs[0], moved];
        const value = tidy(() => loss(f(...args), r));
        moved.dispose();
        return value;
      };
      const numeric = (shifted(step) - shifted(-step)) / (2 * step);
      const exact = analytic[which]?.[i] ?? Number.NaN;
      expect(Math.abs(numeric - exact), `input ${which}, entry ${i}: ${numeric} vs ${exact}`).toBeLessThan(
        2e-3 * (1 + Math.abs(exact)),
      );
    }
  });
}

describe('transposed 3D convolution gradient (registered by core/nn)', () => {
  beforeAll(useCpuBackend);

  const cases: [string, Shape5, number, 1 | 2, 'same' | 'valid', Shape5][] = [
    // [name, x shape, kernel, stride, padding, output shape]
    ['2x2x2 stride 2 same (the decoder up-convolution)', [2, 3, 2, 4, 3], 2, 2, 'same', [2, 6, 4, 8, 2]],
    ['3x3x3 stride 2 valid', [1, 3, 2, 2, 2], 3, 2, 'valid', [1, 7, 5, 5, 3]],
    ['3x3x3 stride 1 same', [1, 4, 3, 3, 2], 3, 1, 'same', [1, 4, 3, 3, 2]],
  ];

  it.each(cases)(
    '%s matches central differences for input and filter',
    (_name, xShape, k, s, pad, outShape) => {
      const random = RandomStream.fromSeed(11, _name);
      const x = randomTensor(xShape, random);
      const filter = randomTensor([k, k, k, outShape[4], xShape[4]], random);
      checkGradients((a, b) => conv3dTranspose(a, b, outShape, s, pad), [x, filter], random);
    },
  );

  it.each(cases)(
    '%s is the adjoint of conv3d, and its gradients satisfy the analytic relations',
    (_name, xShape, k, s, pad, outShape) => {
      const random = RandomStream.fromSeed(12, _name);
      const x = randomTensor(xShape, random);
      const filter = randomTensor([k, k, k, outShape[4], xShape[4]], random);
      const g = randomTensor(outShape, random);
      const y = conv3dTranspose(x, filter, outShape, s, pad);
      // <convT(x, W), g> = <x, conv3d(g, W)>: the forward op is conv3d's adjoint.
      const lhs = dot(y.dataSync(), g.dataSync());
      const convOfG = conv3d(g, filter, s, pad);
      expect(dot(x.dataSync(), convOfG.dataSync())).toBeCloseTo(lhs, 2);
      const [dx, dw] = grads((a: Tensor, b: Tensor) =>
        conv3dTranspose(a as Tensor5D, b as Tensor5D, outShape, s, pad),
      )([x, filter], g);
      // dL/dx = conv3d(g, W) entry by entry, and L = <W, dL/dW> since L is linear in W.
      const dxValues = dx?.dataSync() ?? new Float32Array();
      convOfG.dataSync().forEach((v, i) => expect(dxValues[i]).toBeCloseTo(v, 4));
      expect(dot(filter.dataSync(), dw?.dataSync() ?? [])).toBeCloseTo(lhs, 2);
    },
  );
});

describe('conv3d gradients on the cpu backend for every kernel the search space uses', () => {
  beforeAll(useCpuBackend);

  const kernels: [number, number, number][] = [
    [1, 1, 1],
    [3, 3, 3],
    [5, 5, 5],
    [3, 3, 1],
    [5, 5, 1],
    [7, 7, 1],
    [1, 1, 3],
    [1, 1, 5],
    [1, 1, 7],
  ];

  it.each(kernels)('%i x %i x %i, same padding, matches central differences', (k1, k2, k3) => {
    const random = RandomStream.fromSeed(13, `${k1}${k2}${k3}`);
    const x = randomTensor([1, 5, 6, 4, 2], random);
    const filter = randomTensor([k1, k2, k3, 2, 3], random);
    checkGradients((a, b) => conv3d(a, b, 1, 'same'), [x, filter], random);
  });
});
