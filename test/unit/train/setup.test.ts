// Runs in: a test process. The one training set-up (core/train/setup): what prepareTrainingSetup fixes, the
// run's training.json written and read back (and refused, with the file named, when it is missing, damaged
// or of another kind), the job of one candidate made from it, and a Slurm task that names no set-up.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readTaskSpec } from '../../../core/executors/slurm/worker-files.ts';
import { REFERENCE_OBJECTIVES } from '../../../core/train/objectives.ts';
import { preparedJob, prepareTrainingSetup, type TrainingSetup } from '../../../core/train/setup/prepare.ts';
import {
  readTrainingFile,
  readTrainingSetup,
  trainingFilePath,
  writeTrainingSetup,
} from '../../../core/train/setup/training-file.ts';
import { tempDirs } from '../../fixtures/temp-dir.ts';
import { SMALL_GENOME, writeSyntheticMsd } from './synthetic.ts';

const temp = tempDirs('train-setup');
let dataset = '';
let setup: TrainingSetup;
const OBJECTIVE = { alpha: 0.7, beta: 0.05 };

beforeAll(async () => {
  dataset = temp.make();
  await writeSyntheticMsd(dataset, 8, [12, 12, 12]);
  setup = await prepareTrainingSetup({
    dataset,
    split: { valFraction: 0.25, testFraction: 0.25, seed: 9 },
    settings: { epochs: 7, stepsPerEpoch: 3, batchSize: 2, patch: null, maxMinutes: 2, objective: OBJECTIVE },
    cacheDir: join(dataset, 'cache'),
  });
});
afterAll(() => temp.cleanup());

describe('the training set-up', () => {
  it('fixes the split, the plan and the settings, the objective included', () => {
    expect(setup.split).toMatchObject({ seed: 9, valFraction: 0.25, testFraction: 0.25 });
    expect(setup.train.map((c) => c.id)).toEqual(setup.split.train);
    expect(setup.val.map((c) => c.id)).toEqual(setup.split.val);
    expect(setup.split.val).toHaveLength(2);
    // patch null: the dataset plan's.
    expect(setup.settings.patch).toEqual(setup.plan.patch);
    expect(setup.settings).toMatchObject({ epochs: 7, stepsPerEpoch: 3, batchSize: 2, maxSeconds: 120 });
    expect(setup.settings.objectives).toEqual({ ...REFERENCE_OBJECTIVES, ...OBJECTIVE, budget: 7 });
    expect(setup.task).toEqual({ inChannels: 1, classes: 3 });
    expect(setup.cacheFolder.startsWith(join(dataset, 'cache'))).toBe(true);
  });

  it("makes one candidate's job with its own seed, writing the split into its folder", () => {
    const out = join(temp.make(), 'candidate');
    const job = preparedJob(setup, SMALL_GENOME, 4, out, { epochs: 2 });
    expect(job.settings).toEqual({
      ...setup.settings,
      epochs: 2,
      seed: 4,
      objectives: { ...setup.settings.objectives, budget: 2 },
    });
    expect(job.outDir).toBe(out);
    const split = JSON.parse(readFileSync(join(out, 'split.json'), 'utf8')) as Record<string, unknown>;
    expect(split).toEqual({ dataset: setup.datasetRoot, ...setup.split });
    const refused = join(temp.make(), 'refused');
    expect(() => preparedJob(setup, SMALL_GENOME, 4, refused, { patch: [10, 12, 12] })).toThrow(
      /multiple of 4/,
    );
    expect(existsSync(join(refused, 'split.json'))).toBe(false);
  });

  it("writes the run's training.json once and reads it back; a missing or foreign one is named", () => {
    const runDir = temp.make();
    writeTrainingSetup(runDir, setup);
    expect(readTrainingSetup(runDir)).toEqual(setup);
    expect(readTrainingFile(trainingFilePath(runDir))).toEqual(setup);

    const empty = temp.make();
    const missing = trainingFilePath(empty);
    expect(() => readTrainingSetup(empty)).toThrow(`${missing} is missing`);
    writeFileSync(missing, '{"format": ');
    expect(() => readTrainingSetup(empty)).toThrow(`${missing} is not valid JSON`);
    writeFileSync(missing, JSON.stringify({ ...setup, format: 'something-else' }));
    expect(() => readTrainingSetup(empty)).toThrow(
      `${missing} is not a training setup of this version of Emonas Studio.`,
    );
  });

  it('refuses a Slurm training task that names no training set-up, naming the candidate file', () => {
    const path = join(temp.make(), '0.json');
    const task = {
      format: 'emonas-slurm-task',
      version: 1,
      id: 'g0-c0',
      genome: SMALL_GENOME,
      indices: [0],
      seed: 1,
      fingerprint: 'f',
      workDir: temp.make(),
      resultPath: 'r',
      checkpointPath: 'c',
      evaluator: { kind: 'training', dataset },
    };
    writeFileSync(path, JSON.stringify(task));
    expect(() => readTaskSpec(path)).toThrow(`The candidate file ${path} cannot be run`);
    expect(() => readTaskSpec(path)).toThrow(/names no run training set-up \(training.json\)/);
    writeFileSync(path, JSON.stringify({ ...task, evaluator: { kind: 'training', setupFile: 'x.json' } }));
    expect(readTaskSpec(path).evaluator).toEqual({ kind: 'training', setupFile: 'x.json' });
  });
});
