import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from '../../../core/train/backend.ts';
import { runTraining, type TrainHooks } from '../../../core/train/trainer.ts';
import type { EpochRecord, TrainJob, TrainSettings } from '../../../core/train/job.ts';
import { computeObjectives } from '../../../core/train/objectives.ts';
import { readModelCard } from '../../../core/train/model-card.ts';
import { loadModel } from '../../../core/nn/save-load.ts';
import { EmonasError } from '../../../core/base/errors.ts';
import { tempDirs } from '../../fixtures/temp-dir.ts';
import { quickSettings, syntheticCase, syntheticJob, syntheticLoader } from './synthetic.ts';

const SHAPE = [12, 12, 12] as [number, number, number];
const temp = tempDirs('train');
let backend = '';
let root = '';

beforeAll(async () => {
  backend = (await selectBackend()).backend;
  root = temp.make();
});
afterAll(() => temp.cleanup());

function job(name: string, settings: Partial<TrainSettings> = {}): Promise<TrainJob> {
  return syntheticJob(root, name, 4, SHAPE, { ...quickSettings(SHAPE, 1), ...settings });
}

function hooks(extra: Partial<TrainHooks> = {}): TrainHooks {
  return { load: syntheticLoader(SHAPE), backend, ...extra };
}

describe('training one candidate in process', () => {
  it('trains, logs every epoch, keeps the best weights and leaks no tensor when run twice', async () => {
    const events: string[] = [];
    const first = await runTraining(await job('a'), hooks({ onEvent: (e) => events.push(e.type) }));
    const afterFirst = tf.memory().numTensors;
    expect(first.status).toBe('completed');
    expect(first.epochsRun).toBe(2);
    expect(first.stoppedBy).toBe('budget');
    expect(first.f1).toBeGreaterThan(0);
    expect(first.f1).toBeLessThan(1.5);
    expect(first.f2).toBeCloseTo(Math.log(first.params), 12);
    expect(Object.keys(first.valDice)).toEqual(['Ball', 'Box']);
    expect(events.filter((e) => e === 'step')).toHaveLength(4);
    expect(events.filter((e) => e === 'epoch')).toHaveLength(2);
    expect(events[0]).toBe('preparing');
    const csv = (await readFile(join(first.outDir, 'training-log.csv'), 'utf8')).trim().split('\n');
    expect(csv[0]).toBe('epoch,loss,val_loss,val_dice_Ball,val_dice_Box,lr,seconds');
    expect(csv).toHaveLength(3);
    const card = await readModelCard(first.outDir);
    expect(card.bestEpoch).toBe(first.bestEpoch);
    expect(card.plan.patch).toEqual(SHAPE);
    const saved = await loadModel(first.outDir);
    expect(saved.countParams()).toBe(first.params);
    saved.dispose();

    const second = await runTraining(await job('b'), hooks());
    expect(second.status).toBe('completed');
    expect(tf.memory().numTensors).toBe(afterFirst);
  });

  it('records a diverged run as failed with the worst finite f1 and its reason', async () => {
    const nanLoader = async () => {
      const c = syntheticCase(0, SHAPE);
      (c.image.data as Float32Array).fill(NaN);
      return c;
    };
    const before = tf.memory().numTensors;
    const result = await runTraining(await job('nan', { seed: 2 }), { ...hooks(), load: nanLoader });
    expect(result.status).toBe('failed');
    expect(result.reason?.code).toBe('diverged');
    expect(result.reason?.message).toMatch(/loss became NaN at epoch 1, step 1/);
    expect(result.f1).toBe(1.5);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('stops cleanly at the time limit with the best weights kept', async () => {
    const result = await runTraining(await job('time', { epochs: 5, maxSeconds: 0.001 }), hooks());
    expect(result.status).toBe('completed');
    expect(result.stoppedBy).toBe('time-limit');
    expect(result.epochsRun).toBe(1);
    expect((await readModelCard(result.outDir)).bestEpoch).toBe(0);
  });

  it('scores a training its time limit stopped by the epochs it ran after its best, not the budget left', async () => {
    const records: EpochRecord[] = [];
    let skipped = 0;
    const realNow = Date.now.bind(Date);
    const clock = vi.spyOn(Date, 'now').mockImplementation(() => realNow() + skipped);
    const objectives = { ...quickSettings(SHAPE, 1).objectives, budget: 6 };
    const settings = { epochs: 6, maxSeconds: 3600, objectives };
    try {
      const result = await runTraining(
        await job('cut-f1', settings),
        hooks({
          onEvent: (e) => {
            if (e.type !== 'epoch') return;
            records.push(e.record);
            // Two epochs in, the clock jumps past the limit: the third epoch never starts.
            if (records.length === 2) skipped = 7200 * 1000;
          },
        }),
      );
      expect(result.status).toBe('completed');
      expect(result.stoppedBy).toBe('time-limit');
      expect(records).toHaveLength(2);
      const ran = computeObjectives(records, result.params, objectives, true).f1;
      const budget = computeObjectives(records, result.params, objectives).f1;
      expect(ran).not.toBeCloseTo(budget, 6);
      expect(result.f1).toBeCloseTo(ran, 12);
    } finally {
      clock.mockRestore();
    }
  });

  it('scores a training early stopping ended as the reference does, counting the budget left', async () => {
    const records: EpochRecord[] = [];
    const objectives = { ...quickSettings(SHAPE, 1).objectives, budget: 6 };
    // No improvement is ever larger than 10: early stopping ends it after its second epoch.
    const earlyStopping = { patience: 1, minDelta: 10 };
    const result = await runTraining(
      await job('early-f1', { epochs: 6, objectives, earlyStopping }),
      hooks({ onEvent: (e) => e.type === 'epoch' && records.push(e.record) }),
    );
    expect(result.stoppedBy).toBe('early-stopping');
    expect(records).toHaveLength(2);
    const reference = computeObjectives(records, result.params, objectives).f1;
    expect(reference).not.toBeCloseTo(computeObjectives(records, result.params, objectives, true).f1, 6);
    expect(result.f1).toBeCloseTo(reference, 12);
  });

  it('cancels at the next step without leaking the network', async () => {
    const abort = new AbortController();
    const before = tf.memory().numTensors;
    const run = runTraining(
      await job('cancel', { epochs: 3 }),
      hooks({
        signal: abort.signal,
        onEvent: (e) => {
          if (e.type === 'step') abort.abort();
        },
      }),
    );
    await expect(run).rejects.toThrow(EmonasError);
    await expect(run).rejects.toThrow(/cancelled/);
    expect(tf.memory().numTensors).toBe(before);
  });
});
