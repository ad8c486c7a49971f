// Runs in: a test process. One training set-up for every executor (issue 13): the same candidate of a run
// whose search chose its own alpha and beta trains once through the local worker pool (a training worker
// process) and once through the Slurm path (the executor writes the task on a fake Slurm, the job step
// `emonas worker` runs it from the run's training.json), and both train with the same settings, objective
// included, to the same f1.
import { copyFileSync, existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Executor, EvaluationTask, TaskResult } from '../../../core/executors/executor.ts';
import { createSlurmExecutor } from '../../../core/executors/slurm/create.ts';
import { WorkerPoolExecutor } from '../../../core/executors/worker-pool.ts';
import type { EvaluationOutcome } from '../../../core/search/protocol.ts';
import { encode } from '../../../core/searchspace/encoding.ts';
import { trainingLauncher } from '../../../core/service/training-launcher.ts';
import { runWorker } from '../../../core/service/worker.ts';
import { readCheckpoint, TRAINING_CHECKPOINT_FILE } from '../../../core/train/checkpoint.ts';
import type { TrainJob } from '../../../core/train/job.ts';
import { REFERENCE_OBJECTIVES } from '../../../core/train/objectives.ts';
import type { HostMessage } from '../../../core/train/protocol.ts';
import { forkDetachedTrainingWorker, type WorkerSpawner } from '../../../core/train/setup/launch.ts';
import { fillCache } from '../../../core/train/setup/prepare.ts';
import { tempDirs } from '../../fixtures/temp-dir.ts';
import { testConfig } from '../slurm/availability.ts';
import { FakeSlurm } from '../slurm/fake-slurm.ts';
import { writeSyntheticSetup } from './setup-fixture.ts';
import { SMALL_GENOME } from './synthetic.ts';

const temp = tempDirs('train-local-slurm');
const backendBefore = process.env.EMONAS_BACKEND;
afterAll(() => {
  if (backendBefore === undefined) delete process.env.EMONAS_BACKEND;
  else process.env.EMONAS_BACKEND = backendBefore;
  temp.cleanup();
});

const OBJECTIVE = { alpha: 0.6, beta: 0.9 };
const EPOCHS = 2;

async function resultOf(executor: Executor, id: string): Promise<TaskResult> {
  const deadline = Date.now() + 100_000;
  for (;;) {
    const found = (await executor.collect()).find((r) => r.id === id);
    if (found) return found;
    if (Date.now() > deadline) throw new Error(`no result for ${id} in time`);
    await executor.waitForResults(500);
  }
}

function completed(outcome: EvaluationOutcome): Extract<EvaluationOutcome, { status: 'completed' }> {
  if (outcome.status !== 'completed') throw new Error(`the training failed: ${outcome.reason}`);
  return outcome;
}

describe('a candidate trained locally and on Slurm', () => {
  it('trains with the same settings, the search objective included, to the same f1', async () => {
    // Both paths on the deterministic tfjs CPU backend, so equal settings must give equal numbers.
    process.env.EMONAS_BACKEND = 'cpu';
    const runDir = temp.make();
    const { setup, evaluator } = await writeSyntheticSetup(runDir, {
      epochs: EPOCHS,
      stepsPerEpoch: 1,
      objective: OBJECTIVE,
    });
    await fillCache(setup);
    expect(OBJECTIVE.alpha).not.toBe(REFERENCE_OBJECTIVES.alpha);
    expect(OBJECTIVE.beta).not.toBe(REFERENCE_OBJECTIVES.beta);
    const task = (where: string): EvaluationTask => ({
      id: 'g0-c3',
      genome: SMALL_GENOME,
      indices: encode(SMALL_GENOME),
      seed: 11,
      workDir: join(runDir, 'candidates', where),
    });

    // The local pool: what the engine sends its training worker is the job it trains.
    const sent: TrainJob[] = [];
    const spawn: WorkerSpawner = (logFile) => {
      const handle = forkDetachedTrainingWorker(logFile);
      return {
        ...handle,
        send: (message: HostMessage) => {
          if (message.type === 'train') sent.push(message.job);
          handle.send(message);
        },
      };
    };
    const pool = new WorkerPoolExecutor(trainingLauncher(setup, undefined, spawn), { slots: 1 });
    let local: TaskResult;
    try {
      await pool.submit([task('local')]);
      local = await resultOf(pool, 'g0-c3');
    } finally {
      await pool.close();
    }
    expect(sent).toHaveLength(1);

    // Slurm: the executor writes the task file and the array script; the job step runs as the script would.
    const fake = new FakeSlurm(join(runDir, 'fake-slurm'));
    const slurm = createSlurmExecutor(
      { ...testConfig({ pollSeconds: 0.05 }), slurmBin: fake.bin },
      { stateDir: join(runDir, 'slurm'), jobName: 'emonas-local-vs-slurm', evaluator },
    );
    const kept = join(temp.make(), TRAINING_CHECKPOINT_FILE);
    let remote: TaskResult;
    try {
      await slurm.submit([task('slurm')]);
      const batchDir = dirname(fake.submitted()[0] as string);
      expect(fake.script(100)).toContain(`worker --candidate '${batchDir}/'"\${SLURM_ARRAY_TASK_ID}.json"`);
      const slurmDir = task('slurm').workDir as string;
      fake.setQueue([{ key: '100_0', state: 'RUNNING' }]);
      const report = await runWorker(
        { candidate: join(batchDir, '0.json') },
        {
          log: (line) => {
            // The job step's checkpoint holds the job it trains; it is gone once the result is written.
            if (line === 'Checkpoint saved after epoch 1.') {
              copyFileSync(join(slurmDir, TRAINING_CHECKPOINT_FILE), kept);
            }
          },
        },
      );
      expect(report.status).toBe('done');
      fake.setQueue([]);
      remote = await resultOf(slurm, 'g0-c3');
    } finally {
      await slurm.close();
    }
    const lookup = await readCheckpoint(kept);
    if (!lookup.found) throw new Error(`the job step's checkpoint was not kept: ${String(lookup.reason)}`);

    const localJob = sent[0] as TrainJob;
    const remoteJob = lookup.checkpoint.job;
    expect(remoteJob.settings).toEqual(localJob.settings);
    expect(localJob.settings.objectives).toMatchObject({ ...OBJECTIVE, budget: EPOCHS });
    expect(localJob.settings.seed).toBe(11);
    expect(remoteJob.plan).toEqual(localJob.plan);
    expect(remoteJob.train.map((c) => c.id)).toEqual(localJob.train.map((c) => c.id));
    expect(remoteJob.val.map((c) => c.id)).toEqual(localJob.val.map((c) => c.id));

    const a = completed(local.outcome);
    const b = completed(remote.outcome);
    expect(b.f1).toBe(a.f1);
    expect(b).toEqual(a);
    expect(a.epochs).toBe(EPOCHS);
    // f1 is scored with the search's alpha and beta (method.md section 3), not the reference's.
    const f1With = (o: { alpha: number; beta: number }): number =>
      (a.valLoss as number) +
      o.alpha * (a.trainLoss as number) +
      (o.beta * (EPOCHS - (a.bestEpoch as number))) / EPOCHS;
    expect(a.f1).toBeCloseTo(f1With(OBJECTIVE), 12);
    expect(Math.abs(a.f1 - f1With(REFERENCE_OBJECTIVES))).toBeGreaterThan(1e-3);

    const weights = (where: string): Buffer => readFileSync(join(runDir, 'candidates', where, 'weights.bin'));
    expect(weights('slurm').equals(weights('local'))).toBe(true);
    for (const where of ['local', 'slurm']) {
      expect(existsSync(join(runDir, 'candidates', where, 'split.json')), where).toBe(true);
    }
  }, 180_000);
});
