import { add, div, grad, moments, mul, sqrt, sub, sum, tensor, tidy } from '@tensorflow/tfjs-core';
import type { Tensor } from '@tensorflow/tfjs-core';
import { serialization } from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { RandomStream } from '../../../core/base/random.ts';
import { InstanceNorm, instanceNorm } from '../../../core/nn/instance-norm.ts';
import { useCpuBackend } from './cpu-backend.ts';

const SHAPE = [2, 4, 3, 5, 3];
const EPS = 1e-6;

function sample(seed: string, scale = 1, offset = 0): Float32Array {
  const random = RandomStream.fromSeed(21, seed);
  return Float32Array.from(
    { length: SHAPE.reduce((a, b) => a * b, 1) },
    () => offset + scale * random.normal(),
  );
}

/** (x - mean) / sqrt(var + eps) per sample and channel, in float64. */
function reference(values: Float32Array): Float64Array {
  const [batch = 1, , , , channels = 1] = SHAPE;
  const voxels = values.length / (batch * channels);
  const out = new Float64Array(values.length);
  for (let b = 0; b < batch; b++) {
    for (let c = 0; c < channels; c++) {
      const at = (v: number): number => (b * voxels + v) * channels + c;
      let mean = 0;
      for (let v = 0; v < voxels; v++) mean += values[at(v)] ?? 0;
      mean /= voxels;
      let variance = 0;
      for (let v = 0; v < voxels; v++) variance += ((values[at(v)] ?? 0) - mean) ** 2;
      variance /= voxels;
      for (let v = 0; v < voxels; v++) out[at(v)] = ((values[at(v)] ?? 0) - mean) / Math.sqrt(variance + EPS);
    }
  }
  return out;
}

/** The same normalisation written as plain tfjs ops over axes [1, 2, 3], differentiated by tfjs itself. */
function autodiffInstanceNorm(x: Tensor): Tensor {
  const { mean, variance } = moments(x, [1, 2, 3], true);
  return div(sub(x, mean), sqrt(add(variance, EPS)));
}

describe('instance normalisation', () => {
  beforeAll(useCpuBackend);

  it('normalises each sample and channel over the three spatial axes with population variance', () => {
    const values = sample('values', 3, 5);
    const out = instanceNorm(tensor(values, SHAPE)).dataSync();
    reference(values).forEach((v, i) => expect(out[i]).toBeCloseTo(v, 4));
  });

  it('keeps epsilon 1e-6 inside the square root, so a constant channel maps to zero, not NaN', () => {
    const out = instanceNorm(
      tensor(new Float32Array(SHAPE.reduce((a, b) => a * b, 1)).fill(7), SHAPE),
    ).dataSync();
    expect(out.every((v) => v === 0)).toBe(true);
  });

  it('has the gradient tfjs autodiff gives the plain formula', () => {
    const values = sample('grad-x', 2, -1);
    const r = tensor(sample('grad-r'), SHAPE);
    const x = tensor(values, SHAPE);
    const ours = grad((t: Tensor) => sum(mul(instanceNorm(t), r)))(x).dataSync();
    const plain = grad((t: Tensor) => sum(mul(autodiffInstanceNorm(t), r)))(x).dataSync();
    plain.forEach((v, i) => expect(ours[i]).toBeCloseTo(v, 3));
  });

  it('matches central differences of L = sum(R * IN(x)) at sampled entries', () => {
    const values = sample('fd-x');
    const r = sample('fd-r');
    const loss = (v: Float32Array): number =>
      tidy(() => {
        const y = instanceNorm(tensor(v, SHAPE)).dataSync();
        let total = 0;
        for (let i = 0; i < y.length; i++) total += (y[i] ?? 0) * (r[i] ?? 0);
        return total;
      });
    const analytic = grad((t: Tensor) => sum(mul(instanceNorm(t), tensor(r, SHAPE))))(
      tensor(values, SHAPE),
    ).dataSync();
    const random = RandomStream.fromSeed(22);
    // Step 1e-2: truncation error ~ h^2 * |L'''| and float32 rounding ~ 1e-7 * |L| / h both stay below 1e-3,
    // against gradient entries of order 1.
    const h = 1e-2;
    for (let p = 0; p < 16; p++) {
      const i = random.int(values.length);
      const up = values.slice();
      const down = values.slice();
      up[i] = (up[i] ?? 0) + h;
      down[i] = (down[i] ?? 0) - h;
      const numeric = (loss(up) - loss(down)) / (2 * h);
      expect(Math.abs(numeric - (analytic[i] ?? Number.NaN))).toBeLessThan(5e-3);
    }
  });

  it('is a parameter-free layer registered for serialisation with its epsilon', () => {
    const layer = new InstanceNorm({ name: 'norm', epsilon: 1e-5 });
    layer.build([null, 4, 4, 4, 2]);
    expect(layer.countParams()).toBe(0);
    const [registered, fromConfig] =
      serialization.SerializationMap.getMap().classNameMap[InstanceNorm.className] ?? [];
    expect(registered).toBe(InstanceNorm);
    const config = layer.getConfig();
    expect(config.epsilon).toBe(1e-5);
    const revived = fromConfig?.(InstanceNorm, config) as InstanceNorm;
    expect(revived).toBeInstanceOf(InstanceNorm);
    expect(revived.epsilon).toBe(1e-5);
  });
});
