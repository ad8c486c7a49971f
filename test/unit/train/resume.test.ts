// Runs in: a test process. The per-epoch checkpoint and resume of core/train: a training stopped after an
// epoch and resumed ends exactly as the uninterrupted one (epoch records, CSV log, best and last weights,
// Adam's state), an abort never damages the checkpoint, and a checkpoint of another job or a damaged one
// is ignored with the reason. On the emonas-cpu engine with one thread: with helper threads it sums a
// filter gradient's per-thread partial sums, and which chunks a thread took depends on timing, so two of
// its runs (resumed or not) agree only to rounding; alone, the calling thread takes every chunk in order.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readdir, readFile, truncate, writeFile } from 'node:fs/promises';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { registerFastCpuBackend } from '../../../core/backend/index.ts';
import { EmonasError } from '../../../core/base/errors.ts';
import { DEFAULT_AUGMENTATION } from '../../../core/datasets/pipeline/augment.ts';
import {
  readCheckpoint,
  TRAINING_CHECKPOINT_FILE,
  writeCheckpoint,
  type TrainingCheckpoint,
} from '../../../core/train/checkpoint.ts';
import type { CandidateResult, EpochRecord, TrainEvent, TrainJob } from '../../../core/train/job.ts';
import { REFERENCE_OBJECTIVES } from '../../../core/train/objectives.ts';
import { runTraining, type TrainHooks } from '../../../core/train/trainer.ts';
import { tempDirs } from '../../fixtures/temp-dir.ts';
import { syntheticJob, syntheticLoader } from './synthetic.ts';

const SHAPE = [12, 12, 12] as [number, number, number];
const EPOCHS = 5;
/** One step an epoch: the checkpoint of epoch 2 holds Adam after 2 steps, where 0.999^3 as a power and as
 * tfjs's running product differ in float32, so the resume must restore the product itself. */
const STEPS = 1;
const temp = tempDirs('train-resume');
let root = '';

beforeAll(async () => {
  await registerFastCpuBackend({ threads: 1 });
  if (!(await tf.setBackend('emonas-cpu'))) throw new Error('the emonas-cpu backend did not start');
  root = temp.make();
});
afterAll(() => temp.cleanup());

/** Augmentation, early stopping and a plateau that lowers the rate within 5 epochs: all state resumes.
 * 3 training cases drawn 2 per step: the shuffled queue is partly used when an epoch ends. */
function job(name: string, seed = 3): Promise<TrainJob> {
  return syntheticJob(root, name, 5, SHAPE, {
    epochs: EPOCHS,
    stepsPerEpoch: STEPS,
    batchSize: 2,
    patch: SHAPE,
    seed,
    foregroundProbability: 0.33,
    augmentation: DEFAULT_AUGMENTATION,
    earlyStopping: { patience: 10, minDelta: 0.001 },
    plateau: { factor: 0.5, patience: 1, minDelta: 10, minLearningRate: 1e-7 },
    objectives: { ...REFERENCE_OBJECTIVES, budget: EPOCHS },
    maxSeconds: null,
  });
}

function hooks(extra: Partial<TrainHooks> = {}): TrainHooks {
  return { load: syntheticLoader(SHAPE), backend: 'emonas-cpu', keepCheckpoint: true, ...extra };
}

const withoutTime = (r: EpochRecord) => ({ ...r, seconds: 0 });
const withoutTimes = (r: CandidateResult) => ({ ...r, seconds: 0, outDir: '' });
/** The CSV log without its last column (seconds). */
async function logRows(dir: string): Promise<string[]> {
  const text = await readFile(join(dir, 'training-log.csv'), 'utf8');
  return text
    .trim()
    .split('\n')
    .map((row) => row.split(',').slice(0, -1).join(','));
}

async function checkpointOf(dir: string): Promise<TrainingCheckpoint> {
  const lookup = await readCheckpoint(join(dir, TRAINING_CHECKPOINT_FILE));
  if (!lookup.found) throw new Error(`no checkpoint in ${dir}: ${lookup.reason}`);
  return lookup.checkpoint;
}

const tensorsOf = (c: TrainingCheckpoint) =>
  [...c.weights, ...c.optimizer.firstMoments, ...c.optimizer.secondMoments].map((t) => [...t.values]);

describe('per-epoch checkpoint and resume', () => {
  it('resumes a training stopped in epoch 3 to exactly the uninterrupted one', async () => {
    const whole = await runTraining(await job('whole'), hooks());
    expect(whole.epochsRun).toBe(EPOCHS);

    // Stopped during the third epoch, after the checkpoint of the second.
    const interrupted = await job('interrupted');
    const abort = new AbortController();
    let savedBytes: Buffer | undefined;
    const saved: number[] = [];
    const stopped = runTraining(
      interrupted,
      hooks({
        signal: abort.signal,
        onCheckpoint: (epoch, path) => {
          saved.push(epoch);
          savedBytes = readFileSync(path);
        },
        onEvent: (e) => {
          if (e.type === 'step' && e.epoch === 2 && e.step === 0) abort.abort();
        },
      }),
    );
    await expect(stopped).rejects.toThrow(EmonasError);
    await expect(stopped).rejects.toThrow(/cancelled/);
    expect(saved).toEqual([0, 1]);
    // The abort left the second epoch's checkpoint as it was, and no temporary file beside it.
    const afterAbort = await readFile(join(interrupted.outDir, TRAINING_CHECKPOINT_FILE));
    expect(savedBytes && afterAbort.equals(savedBytes)).toBe(true);
    expect((await readdir(interrupted.outDir)).filter((f) => f.endsWith('.partial'))).toEqual([]);
    expect((await checkpointOf(interrupted.outDir)).loop.epoch).toBe(1);
    expect(await logRows(interrupted.outDir)).toHaveLength(3);

    // What a worker killed while saving leaves (writeFileAtomic's temporary files): this host's of a process
    // that is gone are removed on resume; another host's and a live process's are not this training's to take.
    const gone = spawnSync(process.execPath, ['-e', '']).pid;
    expect(gone).toBeGreaterThan(0);
    const host = hostname();
    const partials = {
      stale: [
        `${TRAINING_CHECKPOINT_FILE}.${host}.${gone}.7.partial`,
        `weights.bin.${host}.${gone}.8.partial`,
      ],
      kept: [
        `${TRAINING_CHECKPOINT_FILE}.other-node.${gone}.9.partial`,
        // A host whose name ends with this one's (node1.cluster.local beside cluster.local).
        `${TRAINING_CHECKPOINT_FILE}.node1.${host}.${gone}.5.partial`,
        `weights.bin.${host}.${process.ppid}.3.partial`,
      ],
    };
    for (const name of [...partials.stale, ...partials.kept]) {
      await writeFile(join(interrupted.outDir, name), 'half a file');
    }

    const events: TrainEvent[] = [];
    const before = tf.memory().numTensors;
    const resumed = await runTraining(interrupted, hooks({ resume: true, onEvent: (e) => events.push(e) }));
    const left = (await readdir(interrupted.outDir)).filter((f) => f.endsWith('.partial'));
    expect(left.sort()).toEqual([...partials.kept].sort());
    expect(tf.memory().numTensors).toBe(before);
    expect(events.find((e) => e.type === 'started')).toMatchObject({ resumedEpochs: 2 });
    expect(events.find((e) => e.type === 'preparing')).toBeDefined();
    const stepEpochs = new Set(events.flatMap((e) => (e.type === 'step' ? [e.epoch] : [])));
    expect([...stepEpochs]).toEqual([2, 3, 4]);

    // Same records (the plateau lowered the rate on the way), result, log, best and last weights.
    const wholeCheckpoint = await checkpointOf(whole.outDir);
    const resumedCheckpoint = await checkpointOf(interrupted.outDir);
    const records = resumedCheckpoint.loop.records;
    expect(new Set(records.map((r) => r.learningRate)).size).toBeGreaterThan(1);
    expect(records.map(withoutTime)).toEqual(wholeCheckpoint.loop.records.map(withoutTime));
    expect(withoutTimes(resumed)).toEqual(withoutTimes(whole));
    expect(await logRows(interrupted.outDir)).toEqual(await logRows(whole.outDir));
    const weights = async (dir: string) => readFile(join(dir, 'weights.bin'));
    expect((await weights(interrupted.outDir)).equals(await weights(whole.outDir))).toBe(true);
    expect(tensorsOf(resumedCheckpoint)).toEqual(tensorsOf(wholeCheckpoint));
    expect(resumedCheckpoint.optimizer.iterations).toBe(EPOCHS * STEPS);
    expect(resumedCheckpoint.optimizer.accBeta1).toBe(wholeCheckpoint.optimizer.accBeta1);
    expect(resumedCheckpoint.loop.data).toEqual(wholeCheckpoint.loop.data);
  });

  it('ignores a checkpoint of another job or a damaged one, and removes its own when training ends', async () => {
    const first = await job('other', 3);
    first.settings.epochs = 1;
    first.settings.objectives = { ...first.settings.objectives, budget: 1 };
    await runTraining(first, hooks());
    const path = join(first.outDir, TRAINING_CHECKPOINT_FILE);

    const started = async (j: TrainJob, extra: Partial<TrainHooks> = {}) => {
      const events: TrainEvent[] = [];
      await runTraining(j, hooks({ resume: true, onEvent: (e) => events.push(e), ...extra }));
      return events;
    };
    // Another seed: another training.
    const otherSeed = { ...first, settings: { ...first.settings, seed: 4 } };
    const events = await started(otherSeed);
    expect(events.find((e) => e.type === 'started')).toMatchObject({
      checkpointIgnored: expect.stringMatching(/belongs to another training/),
    });
    expect(events.find((e) => e.type === 'started')).not.toHaveProperty('resumedEpochs');
    expect(events.some((e) => e.type === 'step' && e.epoch === 0)).toBe(true);

    await truncate(path, 200);
    const damaged = await started(otherSeed, { keepCheckpoint: false });
    expect(damaged.find((e) => e.type === 'started')).toMatchObject({
      checkpointIgnored: expect.stringMatching(/cannot be used: it is cut short/),
    });
    expect(existsSync(path)).toBe(false);
  });

  it('starts a refused checkpoint again with its time budget whole', async () => {
    const limited = await job('refused');
    // A one-hour limit: were the refused checkpoint's hour and a half carried over, the training would stop
    // after its first epoch.
    limited.settings.maxSeconds = 3600;
    await runTraining(limited, hooks());
    const saved = await checkpointOf(limited.outDir);
    const [w0, ...rest] = saved.weights;
    if (!w0) throw new Error('the checkpoint holds no weights');
    // This job's own checkpoint, but with weights of another shape.
    await writeCheckpoint(join(limited.outDir, TRAINING_CHECKPOINT_FILE), {
      ...saved,
      weights: [{ ...w0, shape: [w0.values.length] }, ...rest],
      loop: { ...saved.loop, seconds: 5400 },
    });
    const events: TrainEvent[] = [];
    const result = await runTraining(limited, hooks({ resume: true, onEvent: (e) => events.push(e) }));
    expect(events.find((e) => e.type === 'started')).toMatchObject({
      checkpointIgnored: expect.stringMatching(/holds weights of another network/),
    });
    expect(result.stoppedBy).toBe('budget');
    expect(result.epochsRun).toBe(EPOCHS);
  });
});
