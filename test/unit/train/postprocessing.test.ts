// The post-processing decision end to end: made and stored in the model folder when a tiny training ends
// (on the best epoch's validation maps, or on the validation cases predicted again after a resume), applied
// by emonas predict unless turned off and by the review's predictions; a model folder without a decision
// predicts as before.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { sequential, layers } from '@tensorflow/tfjs-layers';
import type { PreprocessingPlan } from '../../../core/datasets/pipeline/plan.ts';
import { readVolume, writeVolume } from '../../../core/io/volume-files.ts';
import type { Vec3 } from '../../../core/io/volume.ts';
import { keepLargestComponentPerLabel } from '../../../core/metrics/postprocessing.ts';
import { saveModel } from '../../../core/nn/save-load.ts';
import { predict } from '../../../core/service/predict.ts';
import { candidateFolder } from '../../../core/service/review-candidate.ts';
import { REVIEW_FILES } from '../../../core/service/review-predictions.ts';
import { reviewCandidate } from '../../../core/service/review.ts';
import { selectBackend } from '../../../core/train/backend.ts';
import type { TrainJob } from '../../../core/train/job.ts';
import { MODEL_CARD_FILE, readModelCard, writeModelCard } from '../../../core/train/model-card.ts';
import type { StoredPostprocessing } from '../../../core/train/postprocess-decision.ts';
import { runTraining } from '../../../core/train/trainer.ts';
import { tempDirs } from '../../fixtures/temp-dir.ts';
import { writeCandidateModel, writeFormulaRun, writeSyntheticMsd } from '../viewer/fixtures.ts';
import { SMALL_GENOME, quickSettings, syntheticJob, syntheticLoader } from './synthetic.ts';

const SHAPE = [12, 12, 12] as [number, number, number];
const temp = tempDirs('postprocessing');
let backend = '';
let root = '';

beforeAll(async () => {
  backend = (await selectBackend()).backend;
  root = temp.make();
});
afterAll(() => temp.cleanup());

function job(name: string): Promise<TrainJob> {
  return syntheticJob(root, name, 5, SHAPE, quickSettings(SHAPE, 3));
}

describe('the post-processing decision made when training ends', () => {
  it('is stored in emonas-model.json with the validation Dice that justified it, also after a resume', async () => {
    const trained = await job('decided');
    const hooks = { load: syntheticLoader(SHAPE), backend, keepCheckpoint: true };
    const result = await runTraining(trained, hooks);
    expect(result.status).toBe('completed');
    expect(trained.val).toHaveLength(2);
    const card = await readModelCard(result.outDir);
    const decision = card.postprocessing as StoredPostprocessing;
    expect(decision.basis).toBe('best-epoch');
    expect(decision.cases).toBe(2);
    expect(decision.connectivity).toBe(26);
    expect(decision.labels.map((d) => d.label)).toEqual([1, 2]);
    // Made on the best epoch's own validation maps: its "before" is the reported validation Dice.
    expect(decision.labels[0]?.meanDiceBefore).toBeCloseTo(result.valDice.Ball as number, 10);
    expect(decision.labels[1]?.meanDiceBefore).toBeCloseTo(result.valDice.Box as number, 10);
    for (const d of decision.labels) expect(d.apply).toBe(d.meanDiceAfter > d.meanDiceBefore);

    // A training resumed after it had ended has no maps of its best epoch: the saved weights predict the
    // validation cases once, and give the same maps.
    const resumed = await runTraining(trained, { ...hooks, resume: true, keepCheckpoint: false });
    expect(resumed.epochsRun).toBe(result.epochsRun);
    const again = (await readModelCard(result.outDir)).postprocessing as StoredPostprocessing;
    expect(again.basis).toBe('predicted-after-training');
    expect(again.labels).toEqual(decision.labels);
  });
});

// A network whose label map is known: a 1x1x1 convolution with a softmax that calls every voxel brighter
// than the image's mean label 1 (the image is z-scored first), so bright blobs become label-1 components.
const PLAN: PreprocessingPlan = {
  format: 'emonas-plan-1',
  dataset: 'Blobs',
  labels: [
    { value: 0, name: 'background' },
    { value: 1, name: 'Blob' },
    { value: 2, name: 'Never' },
  ],
  head: 'softmax',
  axisOrder: [0, 1, 2],
  targetSpacing: [1, 1, 1],
  normalisation: 'zscore-per-case',
  divisor: 16,
  medianShape: [16, 16, 16],
  maxShape: [16, 16, 16],
  patch: [16, 16, 16],
  cases: 1,
  notes: [],
};
const IMAGE_SHAPE: Vec3 = [16, 16, 16];
const MAIN = { from: [2, 2, 2], to: [8, 8, 8] };
const STRAY = { from: [12, 12, 12], to: [14, 14, 14] };

function inside(box: { from: number[]; to: number[] }, i: number, j: number, k: number): boolean {
  return [i, j, k].every((v, d) => v >= (box.from[d] as number) && v < (box.to[d] as number));
}

async function writeBlobModel(dir: string, postprocessing?: StoredPostprocessing): Promise<void> {
  const model = sequential({
    layers: [
      layers.conv3d({
        inputShape: [null, null, null, 1],
        filters: 3,
        kernelSize: 1,
        activation: 'softmax',
        weights: [tf.tensor5d([0, 50, -50], [1, 1, 1, 1, 3]), tf.tensor1d([0, 0, -50])],
      }),
    ],
  });
  await saveModel(model, dir);
  model.dispose();
  await writeModelCard(dir, {
    format: 'emonas-model-1',
    genome: SMALL_GENOME,
    plan: PLAN,
    params: 6,
    backend: 'cpu',
    bestEpoch: 0,
    valDice: {},
    createdAt: '2026-12-07T00:00:00.000Z',
    ...(postprocessing && { postprocessing }),
  });
}

const KEEP_BLOB: StoredPostprocessing = {
  connectivity: 26,
  cases: 4,
  basis: 'best-epoch',
  labels: [
    { label: 1, meanDiceBefore: 0.7, meanDiceAfter: 0.8, apply: true },
    { label: 2, meanDiceBefore: 1, meanDiceAfter: 1, apply: false },
  ],
};

const KEEP_BOTH = [
  { label: 1, meanDiceBefore: 0.5, meanDiceAfter: 0.6, apply: true },
  { label: 2, meanDiceBefore: 0.5, meanDiceAfter: 0.6, apply: true },
];

describe('emonas predict and the stored decision', () => {
  let input = '';
  const strayVoxels = 8;

  beforeAll(async () => {
    const [nx, ny, nz] = IMAGE_SHAPE;
    const data = new Float32Array(nx * ny * nz);
    for (let k = 0; k < nz; k++)
      for (let j = 0; j < ny; j++)
        for (let i = 0; i < nx; i++)
          if (inside(MAIN, i, j, k) || inside(STRAY, i, j, k)) data[i + nx * (j + ny * k)] = 100;
    input = join(root, 'images');
    await mkdir(input, { recursive: true });
    await writeVolume(join(input, 'blobs.nii.gz'), {
      data,
      dataType: 'float32',
      shape: IMAGE_SHAPE,
      spacing: [1, 1, 1],
      origin: [0, 0, 0],
      direction: [1, 0, 0, 0, 1, 0, 0, 0, 1],
    });
  });

  /** Label-1 voxels of a written label map inside the main blob and inside the stray one. */
  async function countBlobs(file: string): Promise<{ main: number; stray: number }> {
    const labels = await readVolume(file);
    const [nx, ny] = IMAGE_SHAPE;
    let stray = 0;
    let main = 0;
    labels.data.forEach((v, n) => {
      const i = n % nx;
      const j = Math.floor(n / nx) % ny;
      const k = Math.floor(n / (nx * ny));
      if (v === 1 && inside(STRAY, i, j, k)) stray++;
      if (v === 1 && inside(MAIN, i, j, k)) main++;
    });
    return { main, stray };
  }

  async function predicted(model: string, out: string, postprocess?: boolean) {
    const response = await predict({
      model,
      input,
      out: join(root, out),
      ...(postprocess !== undefined && { postprocess }),
    });
    return { response, ...(await countBlobs(join(root, out, 'blobs.nii.gz'))) };
  }

  it('drops a stray component when the decision keeps the largest, and keeps it with postprocess off', async () => {
    const model = join(root, 'blob-model');
    await writeBlobModel(model, KEEP_BLOB);
    const on = await predicted(model, 'on');
    expect(on.main).toBe(216);
    expect(on.stray).toBe(0);
    expect(on.response.postprocessing).toMatchObject({ applied: true, labels: ['Blob'] });
    expect(on.response.postprocessing.summary).toMatch(/largest connected component of Blob/);

    const off = await predicted(model, 'off', false);
    expect(off.main).toBe(216);
    expect(off.stray).toBe(strayVoxels);
    expect(off.response.postprocessing.applied).toBe(false);
    expect(off.response.postprocessing.summary).toMatch(/turned off/);
  });

  it('emonas predict says what it applied, and --no-postprocess keeps the stray component', async () => {
    const emonas = fileURLToPath(new URL('../../../bin/emonas.mjs', import.meta.url));
    const model = join(root, 'blob-model-cli');
    await writeBlobModel(model, KEEP_BLOB);
    const run = (out: string, ...extra: string[]) =>
      spawnSync(
        process.execPath,
        [emonas, 'predict', '--model', model, '--input', input, '--out', join(root, out), ...extra],
        { encoding: 'utf8', timeout: 120_000 },
      );
    const on = run('cli-on');
    expect(on.status, on.stderr).toBe(0);
    expect(on.stdout).toMatch(
      /Post-processed: kept the largest connected component of Blob \(decided on 4 validation cases\)/,
    );
    const off = run('cli-off', '--no-postprocess', '--json');
    expect(off.status).toBe(0);
    const response = JSON.parse(off.stdout) as { postprocessing: { applied: boolean; summary: string } };
    expect(response.postprocessing.applied).toBe(false);
    expect(response.postprocessing.summary).toMatch(/turned off/);
    expect(await countBlobs(join(root, 'cli-on', 'blobs.nii.gz'))).toEqual({ main: 216, stray: 0 });
    expect(await countBlobs(join(root, 'cli-off', 'blobs.nii.gz'))).toEqual({
      main: 216,
      stray: strayVoxels,
    });
  }, 240_000);

  it('keeps every component when the decision keeps the largest of no label', async () => {
    const model = join(root, 'blob-model-none');
    await writeBlobModel(model, {
      ...KEEP_BLOB,
      labels: KEEP_BLOB.labels.map((d) => ({ ...d, apply: false })),
    });
    const result = await predicted(model, 'none');
    expect(result.stray).toBe(strayVoxels);
    expect(result.response.postprocessing).toMatchObject({ applied: false, labels: [] });
    expect(result.response.postprocessing.summary).toMatch(/raised the mean Dice of no label/);
  });

  it('predicts a model folder from before the decision as before, and says so', async () => {
    const model = join(root, 'blob-model-old');
    await writeBlobModel(model);
    const card = JSON.parse(await readFile(join(model, MODEL_CARD_FILE), 'utf8')) as Record<string, unknown>;
    expect(card).not.toHaveProperty('postprocessing');
    const result = await predicted(model, 'old');
    expect(result.main).toBe(216);
    expect(result.stray).toBe(strayVoxels);
    expect(result.response.postprocessing.applied).toBe(false);
    expect(result.response.postprocessing.summary).toMatch(/stores no post-processing decision/);
  });

  it('refuses a damaged decision with a message naming the file', async () => {
    const model = join(root, 'blob-model-damaged');
    await writeBlobModel(model, KEEP_BLOB);
    const file = join(model, MODEL_CARD_FILE);
    const card = JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>;
    await writeFile(file, JSON.stringify({ ...card, postprocessing: { connectivity: 8, labels: 'all' } }));
    await expect(predict({ model, input, out: join(root, 'damaged') })).rejects.toThrow(
      new RegExp(`${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} has a damaged "postprocessing" entry`),
    );
  });
});

describe('the review and the stored decision', () => {
  it('post-processes its validation predictions with the stored decision and says whether it did', async () => {
    const dataset = await writeSyntheticMsd(temp.make(), { count: 4 });
    const runDir = join(temp.make(), 'run-postprocess');
    const { front } = await writeFormulaRun(runDir);
    const chosen = front[0];
    if (!chosen) throw new Error('the formula run should have a front');
    const ref = { runDir, runId: 'run-postprocess', candidateId: chosen.id };
    const dir = candidateFolder(ref);
    await writeCandidateModel(dir, dataset.root, { genome: chosen.genome, val: dataset.ids.slice(0, 2) });

    const plain = await reviewCandidate(ref);
    expect(plain.postprocessing).toMatchObject({ applied: false, labels: [] });
    expect(plain.postprocessing.summary).toMatch(/stores no post-processing decision/);
    const folder = join(dir, REVIEW_FILES.predictions);
    const names = (await readdir(folder)).filter((n) => n.endsWith('.nii.gz'));
    expect(names).toHaveLength(2);
    const raw = await Promise.all(names.map((n) => readVolume(join(folder, n))));
    // Precondition: the untrained network leaves stray voxels, so applying the decision changes something.
    const changed = raw.filter((v) =>
      keepLargestComponentPerLabel(v.data, v.shape, [1, 2]).some((label, n) => label !== v.data[n]),
    );
    expect(changed.length).toBeGreaterThan(0);

    const card = await readModelCard(dir);
    await writeModelCard(dir, { ...card, postprocessing: { ...KEEP_BLOB, labels: KEEP_BOTH } });
    const processed = await reviewCandidate(ref);
    // A new decision is a new model card: the cached predictions are stale and predicted again.
    expect(processed.predicted).toBe(2);
    expect(processed.postprocessing).toMatchObject({ applied: true, labels: ['Anterior', 'Posterior'] });
    for (const [n, name] of names.entries()) {
      const before = raw[n]!;
      const after = await readVolume(join(folder, name));
      expect(Array.from(after.data)).toEqual(
        Array.from(keepLargestComponentPerLabel(before.data, before.shape, [1, 2])),
      );
    }
  }, 240_000);
});
