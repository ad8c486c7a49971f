// The up-convolutions' and the head's initialisers per training protocol: He-uniform under 'reference',
// as the reference sets them (EMONASArch.py lines 107-108 and 149, method.md 2.4), Glorot-uniform under
// 'emonas' (a deliberate deviation); the operations' He-uniform kernels are the same under both.
import { beforeAll, describe, expect, it } from 'vitest';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { buildModel, type BuildOptions } from '../../../core/nn/build-model.ts';
import { builtinGenome } from '../../../core/nn/builtin-genomes.ts';
import { useCpuBackend } from './cpu-backend.ts';

const OPTIONS: BuildOptions = { inputShape: [16, 16, 16, 1], classes: 3, head: 'softmax', seed: 11 };

beforeAll(useCpuBackend);

/** Kernels by layer name, with tfjs' fan-in and fan-out of a rank-5 kernel. */
function kernels(model: LayersModel): Map<string, { values: Float32Array; fanIn: number; fanOut: number }> {
  const out = new Map<string, { values: Float32Array; fanIn: number; fanOut: number }>();
  for (const layer of model.layers) {
    const kernel = layer.getWeights()[0];
    if (!kernel || kernel.rank !== 5) continue;
    const [a, b, c, inner, outer] = kernel.shape as number[];
    const receptive = a! * b! * c!;
    out.set(layer.name, {
      values: kernel.dataSync() as Float32Array,
      fanIn: inner! * receptive,
      fanOut: outer! * receptive,
    });
  }
  return out;
}

describe('initialisers per protocol (method.md 2.4)', () => {
  it('He-uniform up-convolutions and head under reference, Glorot under emonas, the operations alike', () => {
    const genome = builtinGenome('small');
    const emonas = buildModel(genome, OPTIONS);
    const reference = buildModel(genome, { ...OPTIONS, protocol: 'reference' });
    const outerLayers = [
      ...emonas.layers.filter((l) => l.getClassName() === 'Conv3DTranspose').map((l) => l.name),
      emonas.layers[emonas.layers.length - 1]!.name,
    ];
    expect(outerLayers.length, 'precondition: up-convolutions and a head').toBeGreaterThanOrEqual(3);
    const glorot = kernels(emonas);
    const he = kernels(reference);
    expect(he.size).toBe(glorot.size);
    for (const [name, g] of glorot) {
      const h = he.get(name)!;
      if (!outerLayers.includes(name)) {
        expect(Array.from(h.values), `${name}: an operation keeps He-uniform under both`).toEqual(
          Array.from(g.values),
        );
        continue;
      }
      // Same seed, same uniform draws: the kernels differ by the ratio of the two limits only.
      const heLimit = Math.sqrt(6 / g.fanIn);
      const glorotLimit = Math.sqrt(6 / (g.fanIn + g.fanOut));
      expect(Math.max(...Array.from(g.values, Math.abs))).toBeLessThanOrEqual(glorotLimit * (1 + 1e-6));
      expect(Math.max(...Array.from(h.values, Math.abs))).toBeLessThanOrEqual(heLimit * (1 + 1e-6));
      const k = g.values.findIndex((v) => Math.abs(v) > 1e-3);
      expect(k, `${name}: precondition, a weight away from 0`).toBeGreaterThanOrEqual(0);
      expect((h.values[k] as number) / (g.values[k] as number), name).toBeCloseTo(heLimit / glorotLimit, 4);
    }
    emonas.dispose();
    reference.dispose();
  });
});
