import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { computePlan } from '../../../core/datasets/pipeline/plan.ts';
import { NO_AUGMENTATION } from '../../../core/datasets/pipeline/augment.ts';
import { runTraining } from '../../../core/train/trainer.ts';
import type { TrainJob } from '../../../core/train/job.ts';
import { REFERENCE_OBJECTIVES } from '../../../core/train/objectives.ts';
import { LABELS, SMALL_GENOME, syntheticEntries, syntheticLoader } from './synthetic.ts';

let dir = '';
beforeAll(async () => {
  await tf.setBackend('cpu');
  dir = await mkdtemp(join(tmpdir(), 'emonas-train-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function job(name: string, epochs: number): Promise<TrainJob> {
  const entries = await syntheticEntries(join(dir, 'data'), 4);
  const plan = computePlan([{ shape: [16, 16, 16], spacing: [1, 1, 1] }], { dataset: 'Synthetic', labels: LABELS });
  return {
    genome: SMALL_GENOME,
    plan,
    cacheFolder: join(dir, 'cache'),
    train: entries.slice(0, 3),
    val: entries.slice(3),
    outDir: join(dir, name),
    settings: {
      epochs,
      stepsPerEpoch: 2,
      batchSize: 2,
      patch: [16, 16, 16],
      seed: 1,
      foregroundProbability: 0.33,
      augmentation: NO_AUGMENTATION,
      earlyStopping: null,
      plateau: null,
      objectives: { ...REFERENCE_OBJECTIVES, budget: epochs },
      maxSeconds: null,
    },
  };
}

describe('training one candidate in process', () => {
  it('trains, logs each epoch, keeps the best weights and leaks no tensor', async () => {
    const { mkdir } = await import('node:fs/promises');
    const j = await job('a', 2);
    await mkdir(j.outDir, { recursive: true });
    const events: string[] = [];
    const before = tf.memory().numTensors;
    const result = await runTraining(j, { load: syntheticLoader([16, 16, 16]), backend: 'cpu', onEvent: (e) => events.push(e.type) });
    const afterFirst = tf.memory().numTensors;
    console.log(result, before, afterFirst);
    expect(result.status).toBe('completed');
    expect(result.epochsRun).toBe(2);
    const csv = await readFile(join(j.outDir, 'training-log.csv'), 'utf8');
    expect(csv.trim().split('\n')).toHaveLength(3);
    const j2 = await job('b', 2);
    await mkdir(j2.outDir, { recursive: true });
    await runTraining(j2, { load: syntheticLoader([16, 16, 16]), backend: 'cpu' });
    expect(tf.memory().numTensors).toBe(afterFirst);
  });
});
