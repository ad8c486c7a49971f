// Each setting of the reference protocol observed where it is used: the set-up's plan choice and split,
// the trainer's validation (batch Dice over slab pairs), the final training's epochs, steps, batch and
// schedule as the trainer runs them, the initialisers, and the predictor's windows and post-processing.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { connectedComponents } from '../../../core/metrics/components.ts';
import { keepLargestComponentPerLabel } from '../../../core/metrics/postprocessing.ts';
import { readVolume } from '../../../core/io/volume-files.ts';
import { writeNifti } from '../../../core/io/nifti-write.ts';
import type { Mat3, Vec3 } from '../../../core/io/volume.ts';
import { buildModel } from '../../../core/nn/build-model.ts';
import { loadModel } from '../../../core/nn/save-load.ts';
import { RandomStream } from '../../../core/base/random.ts';
import { loadPreparedCases } from '../../../core/datasets/pipeline/cache.ts';
import type { Shape3 } from '../../../core/datasets/pipeline/grid.ts';
import { extractPatch, identityTransform } from '../../../core/datasets/pipeline/patch.ts';
import { preprocessImage, restoreLabelMap } from '../../../core/datasets/pipeline/preprocess.ts';
import { REFERENCE_PROMISE12_VALIDATION } from '../../../core/datasets/pipeline/reference-split.ts';
import { selectBackend } from '../../../core/train/backend.ts';
import { batchTensors } from '../../../core/train/batch.ts';
import { readCheckpoint } from '../../../core/train/checkpoint.ts';
import type { EpochRecord, TrainEvent, TrainSettings } from '../../../core/train/job.ts';
import { softDiceLoss } from '../../../core/train/loss.ts';
import { readModelCard } from '../../../core/train/model-card.ts';
import { predictFile } from '../../../core/train/predict/predict-file.ts';
import { finalSettings, finalTrainSettings } from '../../../core/train/setup/final.ts';
import { preparedJob, prepareTrainingSetup } from '../../../core/train/setup/prepare.ts';
import { withProtocol } from '../../../core/train/setup/protocol.ts';
import { runTraining, type TrainHooks } from '../../../core/train/trainer.ts';
import { loadCanonicalCase } from '../../../core/train/case-loader.ts';
import { writePromise12MetaImage } from '../../fixtures/promise12-tree.ts';
import { tempDirs } from '../../fixtures/temp-dir.ts';
import { writeSyntheticSetup } from './setup-fixture.ts';
import {
  quickSettings,
  SMALL_GENOME,
  syntheticCase,
  syntheticJob,
  syntheticLoader,
  writeSyntheticMsd,
} from './synthetic.ts';

const SHAPE: Shape3 = [12, 12, 32];
const SLAB: Shape3 = [12, 12, 16];
const temp = tempDirs('reference-protocol');
let backend = '';
let root = '';
let referenceModel = '';

beforeAll(async () => {
  backend = (await selectBackend()).backend;
  root = temp.make();
});
afterAll(() => temp.cleanup());

function hooks(extra: Partial<TrainHooks> = {}): TrainHooks {
  return { load: syntheticLoader(SHAPE), backend, ...extra };
}

function referenceSettings(): TrainSettings {
  return { ...withProtocol({ ...quickSettings(SLAB, 3), epochs: 1 }, 'reference'), batchSize: 2 };
}

describe('the set-up under the reference protocol (method.md 5.1, 6.1, 6.2)', () => {
  it("trains on slabs of the plan's in-plane size and 16 slices", async () => {
    const dataset = join(root, 'tall');
    await writeSyntheticMsd(dataset, 4, [12, 12, 40]);
    const request = (protocol: 'emonas' | 'reference') =>
      prepareTrainingSetup({
        dataset,
        split: { valFraction: 0.25, testFraction: 0, seed: 0 },
        settings: { epochs: 1, stepsPerEpoch: 1, batchSize: 1, patch: null, maxMinutes: 0, protocol },
        cacheDir: join(root, 'cache-tall'),
      });
    const emonas = await request('emonas');
    const reference = await request('reference');
    expect(emonas.settings.patch[2], 'precondition: the plan patch is not 16 slices deep').not.toBe(16);
    expect(reference.settings.patch).toEqual([emonas.settings.patch[0], emonas.settings.patch[1], 16]);
    expect(reference.plan.patch).toEqual(reference.settings.patch);
    expect(reference.settings.protocol).toBe('reference');
    expect(reference.settings.foregroundProbability).toBe(0);
    expect(emonas.settings.protocol).toBe('emonas');
  });

  it("splits PROMISE12 by the reference's fixed 10 validation cases", async () => {
    const dataset = join(root, 'promise12');
    const shape: Vec3 = [8, 8, 4];
    for (let n = 0; n < 50; n++) {
      const name = `Case${String(n).padStart(2, '0')}`;
      const common = { shape, spacing: [0.625, 0.625, 3.6] as Vec3, offset: [0, 0, 0] as Vec3 };
      const image = Int16Array.from({ length: 256 }, (_, i) => (i * 7 + n) % 200);
      // A 4 x 4 block on the two middle slices (file order, x fastest).
      const mask = Uint8Array.from({ length: 256 }, (_, i) => {
        const [x, y, z] = [i % 8, Math.floor(i / 8) % 8, Math.floor(i / 64)];
        return x >= 2 && x < 6 && y >= 2 && y < 6 && z >= 1 && z < 3 ? 1 : 0;
      });
      await writePromise12MetaImage(join(dataset, 'TrainingData_Part1'), name, {
        ...common,
        elementType: 'MET_SHORT',
        data: image,
      });
      await writePromise12MetaImage(join(dataset, 'TrainingData_Part1'), `${name}_segmentation`, {
        ...common,
        elementType: 'MET_UCHAR',
        data: mask,
      });
    }
    const request = (protocol: 'emonas' | 'reference') =>
      prepareTrainingSetup({
        dataset,
        split: { valFraction: 0.1, testFraction: 0.1, seed: 0 },
        settings: { epochs: 1, stepsPerEpoch: 1, batchSize: 1, patch: null, maxMinutes: 0, protocol },
        cacheDir: join(root, 'cache-promise12'),
      });
    const emonas = await request('emonas');
    const reference = await request('reference');
    expect(emonas.split.val, 'precondition: the default split is another').not.toEqual(
      REFERENCE_PROMISE12_VALIDATION,
    );
    // The list itself is derived from numpy's RandomState(0).permutation(50) in
    // test/unit/datasets/reference-promise12.test.ts; here the set-up must use it.
    expect(reference.split.val, 'method.md 6.1 step 6').toEqual(REFERENCE_PROMISE12_VALIDATION);
    expect(reference.split.train).toHaveLength(40);
    expect(reference.val.map((c) => c.id)).toEqual(reference.split.val);
    // The reference's preprocessing (method.md 6.1): 1 x 1 x 1.5 mm, centre crop 128 x 128 x 64, per-slice [0, 1].
    expect(emonas.plan.reference, 'precondition: the default plan is this project').toBeUndefined();
    expect(reference.plan.reference?.spacing, 'method.md 6.1: 1 x 1 x 1.5 mm').toEqual([1, 1, 1.5]);
    expect(reference.settings.patch, 'method.md 4.1: 128 x 128 x 16 slabs').toEqual([128, 128, 16]);
    const [prepared] = await loadPreparedCases(
      reference.val.slice(0, 1),
      reference.plan,
      reference.cacheFolder,
      loadCanonicalCase,
    );
    expect(prepared?.image.shape, 'method.md 6.1: centre crop 128 x 128 x 64').toEqual([128, 128, 64]);
    const values = prepared!.image.data;
    expect(values.reduce((a, b) => Math.min(a, b), Infinity)).toBeGreaterThanOrEqual(0);
    expect(values.reduce((a, b) => Math.max(a, b), -Infinity)).toBeLessThanOrEqual(1);
    // Predictions go back to the case's own grid: the one-hot of its preprocessed mask restores its mask.
    const original = await loadCanonicalCase(reference.val[0]!);
    const { grid, record } = preprocessImage(original.image, reference.plan);
    expect(grid.data).toEqual(prepared!.image.data);
    const v = 128 * 128 * 64;
    const probabilities = new Float32Array(2 * v);
    prepared!.label.data.forEach((k, i) => (probabilities[k * v + i] = 1));
    const restored = restoreLabelMap(probabilities, record, reference.plan);
    expect(restored.shape).toEqual(original.label.shape);
    const truth = Array.from(original.label.data, (x) => (x > 0 ? 1 : 0));
    const both = truth.filter((t, i) => t === 1 && restored.data[i] === 1).length;
    const dice =
      (2 * both) / (truth.filter((t) => t === 1).length + restored.data.filter((x) => x === 1).length);
    expect(dice, 'the restored mask overlaps the original').toBeGreaterThan(0.8);
  });
});

describe('the trainer under the reference protocol (method.md 5.1)', () => {
  it('validates by the batch Dice over pairs of non-overlapping slabs, and records the protocol', async () => {
    const job = await syntheticJob(root, 'ref', 5, SHAPE, referenceSettings());
    const records: EpochRecord[] = [];
    let started: Extract<TrainEvent, { type: 'started' }> | undefined;
    const result = await runTraining(
      job,
      hooks({
        onEvent: (e) => {
          if (e.type === 'epoch') records.push(e.record);
          if (e.type === 'started') started = e;
        },
      }),
    );
    expect(result.status).toBe('completed');
    expect(started?.patch, 'the slab is what the network trains on').toEqual(SLAB);
    referenceModel = result.outDir;
    const model = await loadModel(result.outDir);
    // Two validation cases of 32 slices: slabs [0, 16) and [16, 32) of each, served two at a time.
    const cases = await loadPreparedCases(job.val, job.plan, job.cacheFolder, syntheticLoader(SHAPE));
    expect(cases).toHaveLength(2);
    let pairSum = 0;
    let slabSum = 0;
    // Per class: voxels predicted and true, predicted, true, over every slab (the Dice the epoch shows).
    const pooled = { both: [0, 0, 0], predicted: [0, 0, 0], truth: [0, 0, 0] };
    for (const c of cases) {
      const pair = [0, 16].map((z) => extractPatch(c.image, c.label, SLAB, identityTransform([0, 0, z])));
      const { x, y } = batchTensors(pair, SLAB, 3, 3, 'softmax');
      const out = model.predict(x) as tf.Tensor;
      pairSum += (await softDiceLoss(y, out, 'softmax').data())[0] as number;
      const probabilities = (await out.data()) as Float32Array;
      pair.forEach((slab, b) => {
        const label = slab.label as Uint8Array;
        for (let n = 0; n < label.length; n++) {
          const at = (b * label.length + n) * 3;
          let k = 0;
          for (let ch = 1; ch < 3; ch++)
            if ((probabilities[at + ch] as number) > (probabilities[at + k] as number)) k = ch;
          const t = label[n] as number;
          pooled.predicted[k] = (pooled.predicted[k] as number) + 1;
          pooled.truth[t] = (pooled.truth[t] as number) + 1;
          if (k === t) pooled.both[k] = (pooled.both[k] as number) + 1;
        }
      });
      tf.dispose([x, y, out]);
      for (const slab of pair) {
        const one = batchTensors([slab], SLAB, 3, 3, 'softmax');
        const alone = model.predict(one.x) as tf.Tensor;
        slabSum += (await softDiceLoss(one.y, alone, 'softmax').data())[0] as number;
        tf.dispose([one.x, one.y, alone]);
      }
    }
    model.dispose();
    expect(records).toHaveLength(1);
    expect(records[0]?.valLoss, 'the mean batch Dice loss over slab pairs').toBeCloseTo(pairSum / 2, 4);
    expect(Math.abs(slabSum / 4 - pairSum / 2), 'precondition: a per-slab Dice would differ').toBeGreaterThan(
      1e-4,
    );
    const shown = Object.entries(records[0]?.valDice ?? {});
    expect(shown, 'a Dice per foreground label').toHaveLength(2);
    shown.forEach(([name, dice], i) => {
      const denominator = (pooled.predicted[i + 1] as number) + (pooled.truth[i + 1] as number);
      expect(denominator, `precondition: ${name} is in the validation slabs`).toBeGreaterThan(0);
      expect(dice, `${name}: hard Dice pooled over every validation slab`).toBeCloseTo(
        (2 * (pooled.both[i + 1] as number)) / denominator,
        6,
      );
    });
    const card = await readModelCard(result.outDir);
    expect(card.protocol).toBe('reference');
    expect(card.postprocessing?.basis).toBe('reference-protocol');
    expect(card.postprocessing?.connectivity, 'method.md 6.3: face connectivity').toBe(6);
    expect(card.postprocessing?.labels.map((d) => d.apply)).toEqual([true, true]);
  });
});

describe('the network the trainer builds under the reference protocol (method.md 2.4)', () => {
  it('has He-uniform up-convolutions and head', async () => {
    // Adam moves each weight by about its learning rate per step: at 1e-9 the saved network is the initial one.
    const base = await syntheticJob(root, 'init', 5, SHAPE, { ...referenceSettings(), stepsPerEpoch: 1 });
    const job = { ...base, genome: { ...SMALL_GENOME, learningRate: 1e-9 } };
    const result = await runTraining(job, hooks());
    expect(result.status).toBe('completed');
    const trained = await loadModel(result.outDir);
    const seed = RandomStream.fromSeed(job.settings.seed, 'init').nextUint32();
    const options = {
      inputShape: [...SLAB, 1] as [number, number, number, number],
      classes: 3,
      head: 'softmax' as const,
      seed,
    };
    const reference = buildModel(job.genome, { ...options, protocol: 'reference' });
    const emonas = buildModel(job.genome, options);
    const up = reference.layers.filter((l) => l.getClassName() === 'Conv3DTranspose').map((l) => l.name);
    expect(up.length, 'precondition: the network has up-convolutions').toBeGreaterThan(0);
    for (const name of [...up, reference.layers[reference.layers.length - 1]!.name]) {
      const saved = trained.getLayer(name).getWeights()[0]!.dataSync();
      const he = reference.getLayer(name).getWeights()[0]!.dataSync();
      const glorot = emonas.getLayer(name).getWeights()[0]!.dataSync();
      const distance = (a: ArrayLike<number>, b: ArrayLike<number>) =>
        Math.max(...Array.from(a, (v, i) => Math.abs(v - (b[i] as number))));
      expect(distance(saved, he), name).toBeLessThan(1e-6);
      expect(distance(saved, glorot), `${name}: precondition, the initialisers differ`).toBeGreaterThan(1e-3);
    }
    for (const m of [trained, reference, emonas]) m.dispose();
  });
});

describe('the final training under the reference protocol (method.md 5.2)', () => {
  it('runs 6000 epochs of 10 steps at batch 4 with a constant learning rate and no early stopping', async () => {
    const runDir = join(root, 'run');
    const { setup } = await writeSyntheticSetup(runDir, {
      epochs: 5,
      stepsPerEpoch: 1,
      protocol: 'reference',
    });
    const request = finalSettings({}, 'reference');
    const settings = finalTrainSettings(setup, request);
    // Three training cases: 10 steps of 4 slabs leave 2 of the third shuffled pass, 10 of 2 would leave 1.
    const job = {
      ...preparedJob(setup, SMALL_GENOME, 1, join(runDir, 'final.partial'), settings),
      train: setup.train.slice(0, 3),
    };
    job.settings.maxSeconds = 1e-6;
    let started: Extract<TrainEvent, { type: 'started' }> | undefined;
    const result = await runTraining(job, {
      load: loadCanonicalCase,
      backend,
      keepCheckpoint: true,
      onEvent: (e) => {
        if (e.type === 'started') started = e;
      },
    });
    expect(result.stoppedBy, 'the time limit ends it after the first epoch').toBe('time-limit');
    expect(started?.epochs, 'method.md 5.2: 6000 epochs').toBe(6000);
    expect(started?.stepsPerEpoch, 'method.md 5.2: 10 steps').toBe(10);
    const found = await readCheckpoint(join(job.outDir, 'training-checkpoint.bin'));
    expect(found.found).toBe(true);
    if (!found.found) return;
    const loop = found.checkpoint.loop;
    expect(loop.queue, 'method.md 5.2: batch 4 (40 slabs drawn from 3 cases)').toHaveLength(2);
    expect(loop.earlyStopping, 'method.md 5.2: no early stopping').toBeNull();
    expect(loop.plateau, 'method.md 5.2: no plateau schedule').toBeNull();
    expect(loop.learningRate, 'method.md 5.2: constant learning rate').toBe(SMALL_GENOME.learningRate);
    expect(found.checkpoint.job.settings.protocol).toBe('reference');
  });
});

describe('prediction under the reference protocol (method.md 6.3)', () => {
  it('slides slab windows one slice apart and keeps the largest face-connected component', async () => {
    expect(referenceModel, 'precondition: the trainer test made a reference model').not.toBe('');
    const card = await readModelCard(referenceModel);
    // Two bright balls of different sizes: a stand-in network that calls bright voxels class 1 finds two components.
    const { image } = syntheticCase(0, SHAPE);
    const data = new Float32Array(12 * 12 * 32).fill(100);
    for (let k = 0; k < 32; k++)
      for (let j = 0; j < 12; j++)
        for (let i = 0; i < 12; i++) {
          const near = (c: Vec3, r2: number) => (i - c[0]) ** 2 + (j - c[1]) ** 2 + (k - c[2]) ** 2 <= r2;
          if (near([3, 3, 6], 4) || near([8, 8, 22], 2)) data[i + 12 * (j + 12 * k)] = 180;
        }
    const input = join(root, 'two-balls.nii.gz');
    const direction: Mat3 = [1, 0, 0, 0, 1, 0, 0, 0, 1];
    const geometry = {
      shape: SHAPE as Vec3,
      spacing: image.spacing as Vec3,
      origin: [0, 0, 0] as Vec3,
      direction,
    };
    await writeNifti(input, { ...geometry, data, dataType: 'float32' });
    const windows: number[][] = [];
    const model = {
      apply(x: tf.Tensor) {
        windows.push([...x.shape]);
        return tf.tidy(() => {
          const p = tf.sigmoid(tf.mul(tf.sub(x, 1), 8));
          return tf.concat([tf.sub(1, p), p, tf.zerosLike(p)], 4);
        });
      },
    } as unknown as Parameters<typeof predictFile>[0];
    const raw = join(root, 'raw.nii.gz');
    const kept = join(root, 'kept.nii.gz');
    const { postprocessing: _none, ...withoutDecision } = card;
    await predictFile(model, withoutDecision, input, raw);
    expect(windows, 'one window per slice (15 zero slices in front)').toHaveLength(32);
    expect(windows.every((s) => s.join() === [1, 12, 12, 16, 1].join())).toBe(true);
    await predictFile(model, card, input, kept, card.postprocessing);
    const before = (await readVolume(raw)).data;
    const after = (await readVolume(kept)).data;
    const components = (values: ArrayLike<number>) =>
      connectedComponents(
        Uint8Array.from(values, (v) => (v === 1 ? 1 : 0)),
        SHAPE as Vec3,
        6,
      ).sizes.length;
    expect(components(before), 'precondition: the raw prediction has two components').toBe(2);
    expect(components(after)).toBe(1);
    expect(Array.from(after)).toEqual(
      Array.from(keepLargestComponentPerLabel(before, SHAPE as Vec3, [1, 2], 6)),
    );
  });
});
