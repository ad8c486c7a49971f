// Runs in: a test process. The job step (`emonas worker` and core/service/worker.ts): the formula evaluator
// with a checkpoint after every epoch, a stop on abort or SIGTERM that a later run resumes from, a result
// written once and never recomputed, failures as results, unusable candidate files as sentences, and the
// training evaluator.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { EmonasError } from '../../../core/base/errors.ts';
import { formulaEvaluatorSpec } from '../../../core/executors/slurm/create.ts';
import { EMONAS_ENTRY } from '../../../core/executors/slurm/job-script.ts';
import {
  fingerprintOf,
  type EvaluatorSpec,
  type TaskResultFile,
  type TaskSpec,
} from '../../../core/executors/slurm/worker-files.ts';
import { countParams } from '../../../core/nn/param-count.ts';
import { DEFAULT_FORMULA, formulaEvaluator } from '../../../core/search/formula-problem.ts';
import { decode, encode } from '../../../core/searchspace/encoding.ts';
import { runWorker } from '../../../core/service/worker.ts';
import { tempDirs } from '../../fixtures/temp-dir.ts';
import { writeSyntheticSetup } from '../train/setup-fixture.ts';
import { SMALL_GENOME } from '../train/synthetic.ts';

const temp = tempDirs('slurm-worker');
afterAll(() => temp.cleanup());

const INDICES = [6, 1, 1, 1, 2, 3, 1, 4, 4, 3];
const PROBE = fileURLToPath(new URL('../executors/probe-evaluator.ts', import.meta.url));

/** Writes a candidate file as the coordinator would; returns its path and the spec. */
function candidate(
  evaluator: EvaluatorSpec,
  options: { indices?: number[]; payload?: unknown; id?: string; seed?: number } = {},
) {
  const dir = temp.make();
  const indices = options.indices ?? INDICES;
  const id = options.id ?? 'g0-c1';
  const workDir = join(dir, 'candidates', id);
  mkdirSync(workDir, { recursive: true });
  const seed = options.seed ?? 5;
  const parts = { id, indices, seed, payload: options.payload, evaluator };
  const spec: TaskSpec = {
    format: 'emonas-slurm-task',
    version: 1,
    id,
    genome: decode(indices),
    indices,
    seed,
    ...(options.payload === undefined ? {} : { payload: options.payload }),
    evaluator,
    fingerprint: fingerprintOf(parts),
    workDir,
    resultPath: join(workDir, 'result.json'),
    checkpointPath: join(workDir, 'checkpoint.json'),
  };
  const path = join(dir, '0.json');
  writeFileSync(path, JSON.stringify(spec));
  return { path, spec };
}

function readJson<T>(path: string): T {
  return JSON.parse(readFileSync(path, 'utf8')) as T;
}

function savedEpoch(spec: TaskSpec): number {
  if (!existsSync(spec.checkpointPath)) return 0;
  return readJson<{ state: { epoch: number } }>(spec.checkpointPath).state.epoch;
}

async function until(what: string, probe: () => boolean, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!probe()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await sleep(20);
  }
}

const expectedOutcome = (indices: number[]) =>
  formulaEvaluator(DEFAULT_FORMULA)({
    indices,
    genome: decode(indices),
    f2: Math.log(countParams(decode(indices), { inChannels: 1, classes: 1 })),
  });

describe('emonas worker (the job step)', () => {
  it('evaluates the formula problem with a checkpoint after every epoch, and writes the result atomically', async () => {
    const { path, spec } = candidate(formulaEvaluatorSpec(DEFAULT_FORMULA, { epochs: 3, epochMs: 5 }));
    const lines: string[] = [];
    const report = await runWorker({ candidate: path }, { log: (l) => lines.push(l) });
    expect(report).toMatchObject({ status: 'done', alreadyDone: false, resumedFrom: null });
    expect(report.status === 'done' && report.outcome).toEqual(expectedOutcome(INDICES));
    const file = readJson<TaskResultFile>(spec.resultPath);
    expect(file).toMatchObject({
      id: 'g0-c1',
      fingerprint: spec.fingerprint,
      writtenBy: 'worker',
      resumedFrom: null,
    });
    expect(file.outcome).toEqual(expectedOutcome(INDICES));
    expect(savedEpoch(spec)).toBe(3);
    expect(lines.filter((l) => /^Epoch \d of 3 done/.test(l))).toHaveLength(3);
    expect(readdirSync(spec.workDir).sort()).toEqual(['checkpoint.json', 'result.json']);

    // A second run of the same task (a requeue racing the first) finds the result and does nothing.
    const again: string[] = [];
    const second = await runWorker({ candidate: path }, { log: (l) => again.push(l) });
    expect(second).toMatchObject({ status: 'done', alreadyDone: true });
    expect(again.some((l) => l.startsWith('Epoch'))).toBe(false);
  });

  it('stops on abort without a result, and the next run resumes from the checkpoint', async () => {
    const { path, spec } = candidate(formulaEvaluatorSpec(DEFAULT_FORMULA, { epochs: 6, epochMs: 120 }));
    const stop = new AbortController();
    const first = runWorker({ candidate: path }, { signal: stop.signal });
    await until('two epochs are saved', () => savedEpoch(spec) >= 2);
    stop.abort();
    const report = await first;
    expect(report.status).toBe('interrupted');
    expect(existsSync(spec.resultPath)).toBe(false);
    const saved = savedEpoch(spec);
    expect(saved).toBeGreaterThanOrEqual(2);
    expect(saved).toBeLessThan(6);

    const lines: string[] = [];
    const resumed = await runWorker({ candidate: path }, { log: (l) => lines.push(l) });
    expect(resumed).toMatchObject({ status: 'done', resumedFrom: { epoch: saved } });
    expect(lines).toContain(`Resuming after epoch ${saved} of 6.`);
    expect(lines.filter((l) => l.startsWith('Epoch'))).toHaveLength(6 - saved);
    const file = readJson<TaskResultFile>(spec.resultPath);
    expect(file.outcome).toEqual(expectedOutcome(INDICES));
    // The time covers both runs: at least the six epochs' waiting.
    expect(file.seconds).toBeGreaterThanOrEqual(0.7);
  });

  it('ignores a checkpoint that belongs to another evaluation', async () => {
    const { path, spec } = candidate(formulaEvaluatorSpec(DEFAULT_FORMULA, { epochs: 2, epochMs: 1 }));
    writeFileSync(
      spec.checkpointPath,
      JSON.stringify({
        format: 'emonas-slurm-checkpoint',
        version: 1,
        fingerprint: 'other',
        seconds: 9,
        state: { epoch: 2 },
      }),
    );
    const lines: string[] = [];
    expect(await runWorker({ candidate: path }, { log: (l) => lines.push(l) })).toMatchObject({
      resumedFrom: null,
    });
    expect(lines.filter((l) => l.startsWith('Epoch'))).toHaveLength(2);
  });

  it('writes a failing evaluation as a failed result, and a diverged one as diverged', async () => {
    const evaluator: EvaluatorSpec = { kind: 'module', module: PROBE, export: 'probeEvaluate' };
    const bad = candidate(evaluator, { payload: { probe: { delayMs: 1, behaviour: 'throw' } } });
    const report = await runWorker({ candidate: bad.path });
    expect(report.status === 'done' && report.outcome).toMatchObject({
      status: 'failed',
      reason: 'probe failure in g0-c1',
    });
    expect(readJson<TaskResultFile>(bad.spec.resultPath).outcome.status).toBe('failed');
    const nan = candidate(evaluator, { payload: { probe: { delayMs: 1, behaviour: 'nan' } } });
    const diverged = await runWorker({ candidate: nan.path });
    expect(diverged.status === 'done' && diverged.outcome).toMatchObject({
      status: 'failed',
      code: 'diverged',
    });
    const missing = candidate({ kind: 'module', module: PROBE, export: 'noSuchFunction' });
    const refused = await runWorker({ candidate: missing.path });
    expect(refused.status === 'done' && refused.outcome).toMatchObject({
      status: 'failed',
      code: 'bad_request',
    });
  });

  it('refuses an unusable candidate file with a sentence naming it', async () => {
    const dir = temp.make();
    const cases: [string, string | null, string, RegExp][] = [
      ['missing.json', null, 'not_found', /cannot be read; .*shared storage/],
      ['broken.json', '{"format": ', 'unreadable_file', /is not valid JSON/],
      [
        'other.json',
        '{"format": "something-else"}',
        'unsupported_format',
        /format emonas-slurm-task, version 1/,
      ],
      [
        'kind.json',
        JSON.stringify({
          ...candidate(formulaEvaluatorSpec(DEFAULT_FORMULA)).spec,
          evaluator: { kind: 'magic' },
        }),
        'unsupported_format',
        /evaluator kind "magic" is not formula, training or module/,
      ],
    ];
    for (const [name, text, code, message] of cases) {
      const path = join(dir, name);
      if (text !== null) writeFileSync(path, text);
      const err = await runWorker({ candidate: path }).catch((e: unknown) => e);
      expect(err, name).toBeInstanceOf(EmonasError);
      expect((err as EmonasError).code, name).toBe(code);
      expect((err as EmonasError).message, name).toMatch(message);
      expect((err as EmonasError).message, name).toContain(path);
    }
  });

  it('exits with 143 on SIGTERM after its checkpoint, and the next run resumes (the emonas command)', async () => {
    const { path, spec } = candidate(formulaEvaluatorSpec(DEFAULT_FORMULA, { epochs: 40, epochMs: 100 }));
    const run = () => {
      const child = spawn(process.execPath, [EMONAS_ENTRY, 'worker', '--candidate', path], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      child.stderr.on('data', (d: Buffer) => (out += d.toString()));
      const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
      return { child, exit, out: () => out };
    };
    const first = run();
    await until('an epoch is saved', () => savedEpoch(spec) >= 1, 30_000);
    first.child.kill('SIGTERM');
    expect(await first.exit).toBe(143);
    expect(first.out()).toContain('Received SIGTERM; stopping after the last checkpoint.');
    expect(existsSync(spec.resultPath)).toBe(false);
    const saved = savedEpoch(spec);
    expect(saved).toBeGreaterThanOrEqual(1);

    const second = run();
    expect(await second.exit).toBe(0);
    expect(second.out()).toContain(`Resuming after epoch ${saved} of 40.`);
    expect(readJson<TaskResultFile>(spec.resultPath).resumedFrom).toEqual({ epoch: saved });
  }, 60_000);

  it('trains the candidate with the training evaluator, its seed driving the weights', async () => {
    const { evaluator } = await writeSyntheticSetup(temp.make(), { epochs: 1, stepsPerEpoch: 1 });
    const [a, b] = [5, 6].map((seed) => candidate(evaluator, { indices: encode(SMALL_GENOME), seed })) as [
      ReturnType<typeof candidate>,
      ReturnType<typeof candidate>,
    ];
    for (const { path } of [a, b]) expect((await runWorker({ candidate: path })).status).toBe('done');
    const outcome = readJson<TaskResultFile>(a.spec.resultPath).outcome;
    expect(outcome).toMatchObject({ status: 'completed', epochs: 1, bestEpoch: 0 });
    expect(outcome.status === 'completed' && Number.isFinite(outcome.f1)).toBe(true);
    for (const file of ['model.json', 'weights.bin', 'training-log.csv', 'split.json']) {
      expect(existsSync(join(a.spec.workDir, file)), file).toBe(true);
    }
    // The run's split is shared by its candidates; their own seeds give them different weights.
    const split = (c: typeof a) =>
      readJson<{ train: string[]; val: string[] }>(join(c.spec.workDir, 'split.json'));
    expect(split(b)).toEqual(split(a));
    const weights = (c: typeof a) => readFileSync(join(c.spec.workDir, 'weights.bin'));
    expect(weights(a).equals(weights(b))).toBe(false);
  }, 60_000);

  it('stops a training on abort after a checkpoint, and the next run resumes it from there', async () => {
    const { evaluator } = await writeSyntheticSetup(temp.make(), { epochs: 3, stepsPerEpoch: 2 });
    const { path, spec } = candidate(evaluator, { indices: encode(SMALL_GENOME) });
    const stop = new AbortController();
    const first: string[] = [];
    const report = await runWorker(
      { candidate: path },
      {
        signal: stop.signal,
        log: (line) => {
          first.push(line);
          if (line === 'Checkpoint saved after epoch 1.') stop.abort();
        },
      },
    );
    expect(report.status).toBe('interrupted');
    expect(first.filter((l) => l.startsWith('Checkpoint saved'))).toEqual([
      'Checkpoint saved after epoch 1.',
    ]);
    expect(existsSync(join(spec.workDir, 'training-checkpoint.bin'))).toBe(true);
    expect(existsSync(spec.resultPath)).toBe(false);

    const second: string[] = [];
    const resumed = await runWorker({ candidate: path }, { log: (line) => second.push(line) });
    expect(resumed).toMatchObject({ status: 'done', resumedFrom: { epoch: 1 } });
    expect(second).toContain('Resuming the training after epoch 1 of 3, from its checkpoint.');
    expect(second.filter((l) => l.startsWith('Checkpoint saved'))).toEqual([
      'Checkpoint saved after epoch 2.',
      'Checkpoint saved after epoch 3.',
    ]);
    expect(readJson<TaskResultFile>(spec.resultPath).outcome).toMatchObject({
      status: 'completed',
      epochs: 3,
    });
    // The result is written: the weights checkpoint is gone, the small resume marker stays.
    expect(existsSync(join(spec.workDir, 'training-checkpoint.bin'))).toBe(false);
  }, 60_000);
});
