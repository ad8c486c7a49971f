import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { oneHot, tensor, train } from '@tensorflow/tfjs-core';
import type { Tensor } from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EmonasError } from '../../../core/base/errors.ts';
import { RandomStream } from '../../../core/base/random.ts';
import { buildModel } from '../../../core/nn/build-model.ts';
import { builtinGenome } from '../../../core/nn/builtin-genomes.ts';
import { loadModel, saveModel } from '../../../core/nn/save-load.ts';
import type { Genome } from '../../../core/searchspace/genome.ts';
import { useCpuBackend } from './cpu-backend.ts';

let dir = '';

function randomImage(shape: number[], seed: number): Tensor {
  const random = RandomStream.fromSeed(seed, 'save-load');
  return tensor(
    Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => random.normal()),
    shape,
  );
}

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof EmonasError) return `${err.code}: ${err.message}`;
    throw err;
  }
  throw new Error('expected a rejection');
}

describe('saveModel / loadModel', () => {
  beforeAll(async () => {
    await useCpuBackend();
    dir = await mkdtemp(join(tmpdir(), 'emonas-nn-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('round-trips the custom channel replication and the scaled sums of pass-through identities', async () => {
    const genome: Genome = {
      learningRate: 1e-3,
      filters: 8,
      cells: 5,
      inputs: [1, 0, 0],
      ops: ['identity', 'identity', 'conv3d_1x1x1', 'identity'],
    };
    const model = buildModel(genome, { inputShape: [8, 8, 8, 1], classes: 1, head: 'sigmoid', seed: 2 });
    const target = join(dir, 'identities');
    await saveModel(model, target);
    const topology = await readFile(join(target, 'model.json'), 'utf8');
    expect(topology).toContain('EmonasChannelReplicate');
    expect(topology).toContain('Rescaling');
    const loaded = await loadModel(target);
    const x = randomImage([1, 8, 8, 8, 1], 2);
    expect(Array.from((loaded.predict(x) as Tensor).dataSync())).toEqual(
      Array.from((model.predict(x) as Tensor).dataSync()),
    );
  });

  it('writes model.json + weights.bin in the tfjs layers format and loads a network that predicts identically', async () => {
    const model = buildModel(builtinGenome('small'), {
      inputShape: [8, 8, 8, 1],
      classes: 3,
      head: 'softmax',
      seed: 9,
    });
    const target = join(dir, 'small');
    await saveModel(model, target);
    const json = JSON.parse(await readFile(join(target, 'model.json'), 'utf8'));
    expect(json.format).toBe('layers-model');
    expect(json.weightsManifest[0].paths).toEqual(['weights.bin']);
    expect((await readFile(join(target, 'weights.bin'))).byteLength).toBe(4 * model.countParams());
    expect(JSON.stringify(json.modelTopology)).toContain('EmonasInstanceNorm');

    const loaded = await loadModel(target);
    expect(loaded.countParams()).toBe(model.countParams());
    const x = randomImage([1, 8, 8, 8, 1], 1);
    const before = (model.predict(x) as Tensor).dataSync();
    const after = (loaded.predict(x) as Tensor).dataSync();
    expect(Array.from(after)).toEqual(Array.from(before));

    // A loaded network trains too: the transposed-convolution gradient comes with it.
    loaded.compile({ optimizer: train.adam(1e-3), loss: 'categoricalCrossentropy' });
    const y = oneHot(tensor(new Int32Array(512).fill(1), [1, 8, 8, 8]), 3);
    const upBefore = loaded.getLayer('up0').getWeights()[0]?.dataSync().slice();
    const loss = (await loaded.trainOnBatch(x, y)) as number;
    expect(Number.isFinite(loss)).toBe(true);
    const upAfter = loaded.getLayer('up0').getWeights()[0]?.dataSync();
    expect(Array.from(upAfter ?? [])).not.toEqual(Array.from(upBefore ?? []));
  });

  it('says what is wrong with a missing, damaged or foreign folder', async () => {
    expect(await codeOf(loadModel(join(dir, 'nothing-here')))).toMatch(
      /^not_found: .*model\.json is missing/,
    );

    const model = buildModel(builtinGenome('small'), {
      inputShape: [8, 8, 8, 1],
      classes: 2,
      head: 'softmax',
      seed: 1,
    });
    const target = join(dir, 'damaged');
    await saveModel(model, target);
    const weights = await readFile(join(target, 'weights.bin'));
    await writeFile(join(target, 'weights.bin'), weights.subarray(0, 100));
    expect(await codeOf(loadModel(target))).toMatch(
      /^unreadable_file: .*100 bytes but model\.json describes/,
    );

    await writeFile(join(target, 'model.json'), '{ "modelTopology": ');
    expect(await codeOf(loadModel(target))).toMatch(/^unreadable_file: .*not valid JSON/);

    await writeFile(join(target, 'model.json'), JSON.stringify({ hello: 'world' }));
    expect(await codeOf(loadModel(target))).toMatch(
      /^unsupported_format: .*not a TensorFlow\.js layers model/,
    );

    await saveModel(model, target);
    const json = await readFile(join(target, 'model.json'), 'utf8');
    await writeFile(join(target, 'model.json'), json.replaceAll('EmonasInstanceNorm', 'SomeoneElsesLayer'));
    expect(await codeOf(loadModel(target))).toMatch(/^unsupported_format: .*could not be rebuilt/);
  });
});
