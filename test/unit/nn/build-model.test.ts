import { abs, max, mul, ones, sub, sum, tensor } from '@tensorflow/tfjs-core';
import type { Tensor } from '@tensorflow/tfjs-core';
import { model as functionalModel } from '@tensorflow/tfjs-layers';
import type { LayersModel, SymbolicTensor } from '@tensorflow/tfjs-layers';
import { beforeAll, describe, expect, it } from 'vitest';
import { EmonasError } from '../../../core/base/errors.ts';
import { RandomStream } from '../../../core/base/random.ts';
import { buildModel } from '../../../core/nn/build-model.ts';
import type { BuildOptions } from '../../../core/nn/build-model.ts';
import { builtinGenome } from '../../../core/nn/builtin-genomes.ts';
import { checkPatchShape } from '../../../core/nn/patch-shape.ts';
import type { Genome } from '../../../core/searchspace/genome.ts';
import { useCpuBackend } from './cpu-backend.ts';

const OPTIONS: BuildOptions = { inputShape: [8, 8, 8, 1], classes: 3, head: 'softmax', seed: 5 };
const IDENTITY: Genome = {
  learningRate: 1e-3,
  filters: 8,
  cells: 5,
  inputs: [0, 0, 0],
  ops: ['identity', 'identity', 'identity', 'identity'],
};

function layerNames(model: LayersModel, className: string): string[] {
  return model.layers.filter((l) => l.getClassName() === className).map((l) => l.name);
}

function inbound(model: LayersModel, name: string): string[] {
  return model.getLayer(name).inboundNodes[0]?.inboundLayers.map((l) => l.name) ?? [];
}

function image(shape: number[], seed: number): Tensor {
  const random = RandomStream.fromSeed(seed, 'image');
  return tensor(
    Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => random.normal()),
    shape,
  );
}

function maxAbsDiff(a: Tensor, b: Tensor): number {
  return max(abs(sub(a, b))).dataSync()[0] ?? Number.NaN;
}

describe('buildModel', () => {
  beforeAll(useCpuBackend);

  it('lays out the small genome as stem, 5 cells of 4 nodes, 2 pools, 2 up-convolutions and a head', () => {
    const model = buildModel(builtinGenome('small'), OPTIONS);
    expect(model.outputs[0]?.shape).toEqual([null, 8, 8, 8, 3]);
    // stem conv3d_3x3x3 (1) + 5 cells x (1 + 2 + 2 + 1) + head (1)
    expect(layerNames(model, 'Conv3D')).toHaveLength(32);
    expect(layerNames(model, 'Conv3DTranspose')).toEqual(['up1', 'up0']);
    expect(layerNames(model, 'MaxPooling3D')).toEqual(['pool1', 'pool2']);
    expect(layerNames(model, 'EmonasInstanceNorm')).toHaveLength(1 + 5 * 4);
    expect(layerNames(model, 'Activation')).toHaveLength(5 * 4);
    expect(layerNames(model, 'BatchNormalization')).toHaveLength(0);
    expect(layerNames(model, 'Dropout')).toHaveLength(0);
  });

  it('builds the stem from op1 without a leading ReLU, and each cell op as ReLU -> conv(s) -> IN', () => {
    const model = buildModel(builtinGenome('small'), OPTIONS);
    expect(inbound(model, 'stem_conv1')).toEqual(['image']);
    expect(inbound(model, 'stem_norm')).toEqual(['stem_conv1']);
    expect(inbound(model, 'cell0_node1_relu')).toEqual(['stem_norm']);
    expect(inbound(model, 'cell0_node1_conv1')).toEqual(['cell0_node1_relu']);
    // Pseudo-3D: in-plane k x k x 1, then through-plane 1 x 1 x k, with nothing between, both with a bias.
    expect(inbound(model, 'cell0_node2_conv2')).toEqual(['cell0_node2_conv1']);
    const inPlane = model.getLayer('cell0_node2_conv1').getWeights();
    const throughPlane = model.getLayer('cell0_node2_conv2').getWeights();
    expect(inPlane.map((w) => w.shape)).toEqual([[3, 3, 1, 8, 8], [8]]);
    expect(throughPlane.map((w) => w.shape)).toEqual([[1, 1, 3, 8, 8], [8]]);
    expect(inbound(model, 'cell0_node2_norm')).toEqual(['cell0_node2_conv2']);
    // Node 2 reads node 0 (the cell input), nodes 3 and 4 read node 1.
    expect(inbound(model, 'cell0_node2_relu')).toEqual(['stem_norm']);
    expect(inbound(model, 'cell0_node3_relu')).toEqual(['cell0_node1_norm']);
    expect(inbound(model, 'cell0_node4_relu')).toEqual(['cell0_node1_norm']);
    expect(inbound(model, 'cell0_sum')).toEqual([
      'cell0_node1_norm',
      'cell0_node2_norm',
      'cell0_node3_norm',
      'cell0_node4_norm',
    ]);
  });

  it('pools with valid 2x2x2 max-pools and adds stride-2 up-convolutions to the encoder skips', () => {
    const model = buildModel(builtinGenome('small'), OPTIONS);
    expect(inbound(model, 'pool1')).toEqual(['cell0_sum']);
    const pool = model.getLayer('pool1').getConfig();
    expect([pool.poolSize, pool.strides, pool.padding]).toEqual([[2, 2, 2], [2, 2, 2], 'valid']);
    expect(inbound(model, 'up1')).toEqual(['cell2_sum']);
    expect(inbound(model, 'skip1')).toEqual(['up1', 'cell1_sum']);
    expect(inbound(model, 'skip0')).toEqual(['up0', 'cell0_sum']);
    const up = model.getLayer('up0').getConfig();
    expect([up.kernelSize, up.strides, up.padding, up.useBias]).toEqual([[2, 2, 2], [2, 2, 2], 'same', true]);
    expect(inbound(model, 'head')).toEqual(['cell4_sum']);
  });

  it('makes an identity stem NF1 copies of the image, and replicates channels only where they differ', () => {
    const model = buildModel(IDENTITY, OPTIONS);
    const x = image([1, 8, 8, 8, 1], 1);
    const stem = functionalModel({
      inputs: model.inputs,
      outputs: model.getLayer('stem_copy').output as SymbolicTensor,
    });
    const copies = stem.predict(x) as Tensor;
    expect(copies.shape).toEqual([1, 8, 8, 8, 8]);
    expect(maxAbsDiff(copies, x)).toBe(0);
    // Full-resolution cell: the identities pass node 0 through, and the sum adds it four times.
    const cell0 = functionalModel({
      inputs: model.inputs,
      outputs: model.getLayer('cell0_sum').output as SymbolicTensor,
    });
    expect(maxAbsDiff(cell0.predict(x) as Tensor, mul(copies, 4))).toBeLessThan(1e-5);
    // The first down cell gets 8 channels and needs 16: each identity makes two copies.
    expect(inbound(model, 'cell1_node1_copy')).toEqual(['pool1']);
    expect(model.getLayer('cell1_node1_copy').getConfig().copies).toBe(2);
    expect(layerNames(model, 'EmonasChannelReplicate')).toHaveLength(1 + 2 * 4);
    // The whole network predicts, twice: a tensor repeated in one layer's inputs would be freed too early.
    const first = (model.predict(x) as Tensor).dataSync();
    expect(Array.from((model.predict(x) as Tensor).dataSync())).toEqual(Array.from(first));
    expect(model.countParams()).toBe(5_153 - 9 + 3 * 9);
  });

  it('uses seeded He-uniform kernels and zero biases: the same seed gives the same weights', () => {
    const genome = builtinGenome('small');
    const a = buildModel(genome, OPTIONS).getWeights();
    const b = buildModel(genome, OPTIONS).getWeights();
    const c = buildModel(genome, { ...OPTIONS, seed: 6 }).getWeights();
    expect(a.length).toBe(b.length);
    a.forEach((w, i) => expect(maxAbsDiff(w, b[i] as Tensor)).toBe(0));
    expect(maxAbsDiff(a[0] as Tensor, c[0] as Tensor)).toBeGreaterThan(0);
    const model = buildModel(genome, OPTIONS);
    // Two kernels of the same shape in different cells get different draws.
    const k1 = model.getLayer('cell0_node1_conv1').getWeights()[0] as Tensor;
    const k2 = model.getLayer('cell4_node1_conv1').getWeights()[0] as Tensor;
    expect(maxAbsDiff(k1, k2)).toBeGreaterThan(0);
    // He-uniform bound sqrt(6 / fan_in), fan_in = 27 * 8 for a 3x3x3 conv from 8 channels.
    const bound = Math.sqrt(6 / (27 * 8));
    expect(max(abs(k1)).dataSync()[0]).toBeLessThanOrEqual(bound);
    expect(max(abs(k1)).dataSync()[0]).toBeGreaterThan(0.9 * bound);
    const bias = model.getLayer('cell0_node1_conv1').getWeights()[1] as Tensor;
    expect(max(abs(bias)).dataSync()[0]).toBe(0);
  });

  it('gives the head and the up-convolutions Glorot-uniform kernels, as Keras does where the reference names none', () => {
    const model = buildModel(builtinGenome('small'), OPTIONS);
    const config = (name: string): unknown => model.getLayer(name).getConfig()['kernelInitializer'];
    // tfjs serialises both as VarianceScaling: Glorot is fanAvg with scale 1, He is fanIn with scale 2.
    const glorot = {
      className: 'VarianceScaling',
      config: { scale: 1, mode: 'fanAvg', distribution: 'uniform' },
    };
    expect(config('head')).toMatchObject(glorot);
    expect(config('up1')).toMatchObject(glorot);
    expect(config('cell0_node1_conv1')).toMatchObject({ config: { scale: 2, mode: 'fanIn' } });
    // Glorot bound sqrt(6 / (fan_in + fan_out)) for the 1x1x1 head from 8 channels to 3 classes.
    const head = model.getLayer('head').getWeights()[0] as Tensor;
    expect(max(abs(head)).dataSync()[0]).toBeLessThanOrEqual(Math.sqrt(6 / (8 + 3)));
  });

  it('ends in a softmax over the classes, or a sigmoid for one foreground class', () => {
    const genome = builtinGenome('small');
    const x = image([2, 8, 8, 8, 1], 3);
    const softmax = buildModel(genome, OPTIONS).predict(x) as Tensor;
    expect(maxAbsDiff(sum(softmax, -1), ones([2, 8, 8, 8]))).toBeLessThan(1e-5);
    const sigmoid = buildModel(genome, { ...OPTIONS, classes: 1, head: 'sigmoid' }).predict(x) as Tensor;
    expect(sigmoid.shape).toEqual([2, 8, 8, 8, 1]);
    const values = sigmoid.dataSync();
    expect(values.every((v) => v > 0 && v < 1)).toBe(true);
  });

  it('rejects what it cannot build with invalid_genome and a sentence saying what to change', () => {
    const genome = builtinGenome('small');
    const attempt = (options: BuildOptions, g: Genome = genome): EmonasError => {
      try {
        buildModel(g, options);
      } catch (err) {
        if (err instanceof EmonasError) return err;
        throw err;
      }
      throw new Error('expected buildModel to throw');
    };
    const patch = attempt({ ...OPTIONS, inputShape: [8, 10, 8, 1] });
    expect(patch.code).toBe('invalid_genome');
    expect(patch.message).toMatch(/multiple of 4, and 10 is not/);
    expect(attempt({ ...OPTIONS, classes: 1 }).message).toMatch(/softmax head needs at least 2 classes/);
    expect(attempt({ ...OPTIONS, inputShape: [8, 8, 8, 3] }, IDENTITY).message).toMatch(/multiple of 3/);
    expect(attempt({ ...OPTIONS, seed: Number.NaN }).message).toMatch(/seed/);
  });
});

describe('checkPatchShape', () => {
  it('accepts sides divisible by 2^pools and names every side that is not', () => {
    expect(() => checkPatchShape({ cells: 9 }, [128, 128, 16])).not.toThrow();
    expect(() => checkPatchShape({ cells: 9 }, [128, 128, 24])).toThrow(/multiple of 16, and 24 is not/);
    expect(() => checkPatchShape({ cells: 7 }, [36, 64, 44])).toThrow(/36, 44 are not.*such as 40x64x48/);
    expect(() => checkPatchShape({ cells: 5 }, [8, 8])).toThrow(/three whole, positive sides/);
  });
});
