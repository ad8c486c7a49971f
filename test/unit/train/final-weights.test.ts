// Runs in: a test process. The final training starts from its search candidate's best weights (or, with
// fresh, from a new initialisation), refuses weights that do not fit the network naming the file, records
// what it started from, and an interrupted one continues from its own checkpoint.
import { createHash } from 'node:crypto';
import { cpSync, existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EmonasError } from '../../../core/base/errors.ts';
import { buildModel } from '../../../core/nn/build-model.ts';
import { saveModel } from '../../../core/nn/save-load.ts';
import type { Genome } from '../../../core/searchspace/genome.ts';
import { selectBackend } from '../../../core/train/backend.ts';
import { loadCanonicalCase } from '../../../core/train/case-loader.ts';
import { readCheckpoint, TRAINING_CHECKPOINT_FILE } from '../../../core/train/checkpoint.ts';
import type { TrainEvent } from '../../../core/train/job.ts';
import { preparedJob, type TrainingSetup } from '../../../core/train/setup/prepare.ts';
import { FINAL_DIR, trainFinal, type FinalCandidate } from '../../../core/train/setup/final.ts';
import { runTraining } from '../../../core/train/trainer.ts';
import { tempDirs } from '../../fixtures/temp-dir.ts';
import { writeSyntheticSetup } from './setup-fixture.ts';
import { SMALL_GENOME } from './synthetic.ts';

const temp = tempDirs('final-weights');
let runDir = '';
let setup: TrainingSetup;
let candidateDir = '';
let backend = '';

/** A candidate as the search leaves it: candidates/<id> with the best epoch's weights and the model card. */
beforeAll(async () => {
  backend = (await selectBackend()).backend;
  runDir = temp.make();
  ({ setup } = await writeSyntheticSetup(runDir, { epochs: 5, stepsPerEpoch: 1 }));
  candidateDir = join(runDir, 'candidates', 'g1-c2');
  // Trained with another seed than the final training's below, so that a fresh start (the final training's
  // own initialisation) is far from the candidate's weights and the tests can tell the two apart.
  const job = preparedJob(setup, SMALL_GENOME, 11, candidateDir, { epochs: 1, stepsPerEpoch: 2 });
  const result = await runTraining(job, { load: loadCanonicalCase, backend });
  expect(result.status).toBe('completed');
}, 120_000);
afterAll(() => temp.cleanup());

const candidate = (extra: Partial<FinalCandidate> = {}): FinalCandidate => ({
  id: 'g1-c2',
  genome: SMALL_GENOME,
  seed: 3,
  modelDir: candidateDir,
  ...extra,
});

const floats = (file: string): Float32Array => {
  const bytes = readFileSync(file);
  return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
};

const sha256 = (file: string): string => createHash('sha256').update(readFileSync(file)).digest('hex');

/** The largest change of any weight between two saves of the same network. */
function largestChange(a: string, b: string): number {
  const x = floats(a);
  const y = floats(b);
  expect(x.length).toBe(y.length);
  expect(x.length).toBeGreaterThan(0);
  let max = 0;
  for (let i = 0; i < x.length; i++) max = Math.max(max, Math.abs((x[i] as number) - (y[i] as number)));
  return max;
}

const ONE_EPOCH = { epochs: 1, stepsPerEpoch: 1, maxMinutes: 0, fresh: false, protocol: 'emonas' as const };

describe("the final training's starting weights", () => {
  it("starts from the candidate's weights and records them", async () => {
    const summary = await trainFinal(runDir, candidate(), ONE_EPOCH);
    expect(summary).toMatchObject({ status: 'completed', epochsRun: 1, bestEpoch: 0 });
    const weights = join(candidateDir, 'weights.bin');
    expect(summary.startedFrom).toEqual({ candidate: 'g1-c2', sha256: sha256(weights) });
    // One Adam step from fresh moments moves every weight by lr * |g| / (|g| + eps), at most the learning
    // rate (1 % over it for float32 rounding): the saved epoch started where the candidate ended.
    const change = largestChange(weights, join(runDir, FINAL_DIR, 'weights.bin'));
    expect(change).toBeGreaterThan(0);
    expect(change).toBeLessThanOrEqual(SMALL_GENOME.learningRate * 1.01);
    const result = JSON.parse(readFileSync(join(runDir, FINAL_DIR, 'result.json'), 'utf8')) as {
      startedFrom: unknown;
    };
    expect(result.startedFrom).toEqual(summary.startedFrom);
    const recorded = JSON.parse(readFileSync(join(runDir, FINAL_DIR, 'finalize.json'), 'utf8')) as {
      startedFrom: unknown;
    };
    expect(recorded.startedFrom).toEqual(summary.startedFrom);
  }, 120_000);

  it('starts from a new initialisation with fresh', async () => {
    const summary = await trainFinal(runDir, candidate(), { ...ONE_EPOCH, fresh: true });
    expect(summary).toMatchObject({ status: 'completed', epochsRun: 1, startedFrom: 'fresh' });
    const change = largestChange(join(candidateDir, 'weights.bin'), join(runDir, FINAL_DIR, 'weights.bin'));
    expect(change).toBeGreaterThan(10 * SMALL_GENOME.learningRate);
  }, 120_000);

  it("refuses another genome's folder, naming its model card, and keeps the final model", async () => {
    const before = sha256(join(runDir, FINAL_DIR, 'weights.bin'));
    const other: Genome = { ...SMALL_GENOME, filters: 16 };
    const refusal = await trainFinal(runDir, candidate({ genome: other }), ONE_EPOCH).catch(
      (e: unknown) => e,
    );
    expect(refusal).toBeInstanceOf(EmonasError);
    const error = refusal as EmonasError;
    expect(error.file).toBe(join(candidateDir, 'emonas-model.json'));
    expect(error.message).toContain(join(candidateDir, 'emonas-model.json'));
    expect(error.message).toContain('--fresh');
    expect(sha256(join(runDir, FINAL_DIR, 'weights.bin'))).toBe(before);
  });

  it('refuses weights saved from another network or missing, naming weights.bin', async () => {
    const wrong = join(runDir, 'candidates', 'wrong-net');
    cpSync(candidateDir, wrong, { recursive: true });
    const model = buildModel(
      { ...SMALL_GENOME, filters: 16 },
      {
        inputShape: [...setup.settings.patch, 1],
        classes: setup.task.classes,
        head: setup.plan.head,
        seed: 1,
      },
    );
    await saveModel(model, wrong);
    model.dispose();
    const mismatch = await trainFinal(runDir, candidate({ modelDir: wrong }), ONE_EPOCH).catch((e) => e);
    expect(mismatch).toBeInstanceOf(EmonasError);
    expect((mismatch as EmonasError).message).toContain(join(wrong, 'weights.bin'));
    expect((mismatch as EmonasError).message).toMatch(
      /holds \d+ weights, but the network of its genome has \d+/,
    );

    rmSync(join(wrong, 'weights.bin'));
    const missing = await trainFinal(runDir, candidate({ modelDir: wrong }), ONE_EPOCH).catch((e) => e);
    expect(missing).toBeInstanceOf(EmonasError);
    expect((missing as EmonasError).file).toBe(join(wrong, 'weights.bin'));
    expect((missing as EmonasError).message).toContain('is missing');
  });

  it('refuses, in the worker, tensors of the right count in the wrong shapes', async () => {
    const swapped = join(runDir, 'candidates', 'swapped');
    cpSync(candidateDir, swapped, { recursive: true });
    const file = join(swapped, 'model.json');
    const json = JSON.parse(readFileSync(file, 'utf8')) as {
      weightsManifest: { weights: { shape: number[] }[] }[];
    };
    const entries = json.weightsManifest[0]?.weights ?? [];
    const second = entries.findIndex((e) => e.shape.join() !== entries[0]?.shape.join());
    expect(second).toBeGreaterThan(0);
    [entries[0], entries[second]] = [
      entries[second] as { shape: number[] },
      entries[0] as { shape: number[] },
    ];
    writeFileSync(file, JSON.stringify(json));
    const before = sha256(join(runDir, FINAL_DIR, 'weights.bin'));
    const refusal = await trainFinal(runDir, candidate({ modelDir: swapped }), ONE_EPOCH).catch((e) => e);
    expect(refusal).toBeInstanceOf(EmonasError);
    expect((refusal as EmonasError).file).toBe(join(swapped, 'weights.bin'));
    expect((refusal as EmonasError).message).toContain('does not fit the network');
    expect(existsSync(join(runDir, `${FINAL_DIR}.partial`))).toBe(false);
    expect(sha256(join(runDir, FINAL_DIR, 'weights.bin'))).toBe(before);
  }, 120_000);

  it('continues an interrupted final training from its own checkpoint', async () => {
    const settings = {
      epochs: 4,
      stepsPerEpoch: 2,
      maxMinutes: 0,
      fresh: false,
      protocol: 'emonas' as const,
    };
    const stop = new AbortController();
    const interrupted = await trainFinal(runDir, candidate(), settings, {
      signal: stop.signal,
      onEvent: (e) => {
        if (e.type === 'epoch') stop.abort();
      },
    }).catch((e: unknown) => e);
    expect(interrupted).toBeInstanceOf(EmonasError);
    expect((interrupted as EmonasError).code).toBe('cancelled');
    expect((interrupted as EmonasError).message).toContain('continue');
    // The worker may finish another epoch before it is killed: the checkpoint says where it got to.
    const saved = await readCheckpoint(join(runDir, `${FINAL_DIR}.partial`, TRAINING_CHECKPOINT_FILE));
    expect(saved.found).toBe(true);
    const done = saved.found ? saved.checkpoint.loop.epoch + 1 : 0;
    expect(done).toBeGreaterThan(0);
    expect(done).toBeLessThan(settings.epochs);

    const started: Extract<TrainEvent, { type: 'started' }>[] = [];
    const summary = await trainFinal(runDir, candidate(), settings, {
      onEvent: (e) => {
        if (e.type === 'started') started.push(e);
      },
    });
    expect(started).toHaveLength(1);
    expect(started[0]?.resumedEpochs).toBe(done);
    expect(started[0]?.checkpointIgnored).toBeUndefined();
    expect(summary).toMatchObject({ status: 'completed', epochsRun: settings.epochs });
    expect(summary.startedFrom).toEqual({
      candidate: 'g1-c2',
      sha256: sha256(join(candidateDir, 'weights.bin')),
    });
  }, 180_000);
});
