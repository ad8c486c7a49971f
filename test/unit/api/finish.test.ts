// The contract's end of a search's job, on a tiny real run (hippocampus cases, one-epoch candidates): the
// final training in the background with progress events, pause and resume across an engine restart, the
// test split evaluated (and never read before), and the model applied to new scans, one of them broken,
// one a 4D series; then the same through the command line.
import { spawnSync } from 'node:child_process';
import { gzipSync } from 'node:zlib';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';
import type { EventName } from '../../../core/api/events.ts';
import type { FinalModel } from '../../../core/api/finish.ts';
import { readVolume } from '../../../core/io/volume-files.ts';
import { createEngine, type Engine } from '../../../core/service/index.ts';
import { encodeNifti4d } from '../../fixtures/acdc-tree.ts';
import { smallHippocampus } from './demo-fixture.ts';
import { engineTinySearch } from '../../fixtures/tiny-search.ts';
import { value } from '../../fixtures/api-value.ts';

const EMONAS = fileURLToPath(new URL('../../../bin/emonas.mjs', import.meta.url));
const DEMO_IMAGES = fileURLToPath(
  new URL('../../../resources/demo/Task04_Hippocampus_demo/imagesTr/', import.meta.url),
);

function finalEnded(engine: Engine): Promise<FinalModel> {
  return new Promise((resolve) => {
    const off = engine.on('final.ended', ({ final }) => {
      off();
      resolve(final);
    });
  });
}

it(
  'finalizes, evaluates on the test split and applies the model to new scans',
  { timeout: 600_000 },
  async () => {
    const temp = mkdtempSync(join(tmpdir(), 'emonas-finish-'));
    const dataDir = join(temp, 'data');
    const cacheDir = join(temp, 'cache');
    const dataset = smallHippocampus([
      'hippocampus_001',
      'hippocampus_003',
      'hippocampus_004',
      'hippocampus_006',
      'hippocampus_007',
    ]);
    let engine = createEngine({ dataDir, log: () => undefined });
    const events: { name: EventName; payload: unknown }[] = [];
    engine.onAnyEvent((name, payload) => events.push({ name, payload }));
    const { runId, runDir } = await engineTinySearch(engine, dataset, {
      stepsPerEpoch: 2,
      valFraction: 0.2,
      testFraction: 0.2,
      cacheDir,
    });

    // The final training, paused after its first epoch and resumed by another engine on the same folder.
    expect(value(await engine.call('final.get', { runId })).state).toBe('none');
    let ended = finalEnded(engine);
    const firstEpoch = new Promise<void>((resolve) => {
      const off = engine.on('final.progressed', () => {
        off();
        resolve();
      });
    });
    // Five epochs of one step: the pause, sent when the first ends, lands well before the last.
    const started = value(await engine.call('final.start', { runId, epochs: 5, stepsPerEpoch: 1 }));
    expect(started.state).toBe('running');
    expect(started.request).toMatchObject({ candidate: null, epochs: 5, stepsPerEpoch: 1, fresh: false });
    expect(await engine.call('final.start', { runId })).toMatchObject({
      ok: false,
      error: { code: 'conflict' },
    });
    await firstEpoch;
    value(await engine.call('final.pause', { runId }));
    const paused = await ended;
    expect(paused.state).toBe('paused');
    expect(paused.curves.length).toBeGreaterThanOrEqual(1);
    expect(paused.curves.length).toBeLessThan(5);
    await engine.close();

    engine = createEngine({ dataDir, log: () => undefined });
    engine.onAnyEvent((name, payload) => events.push({ name, payload }));
    expect(value(await engine.call('final.get', { runId })).state).toBe('paused');
    // An engine that died while training leaves the job file without the pause, naming a process that is
    // gone (far above Linux's pid_max default range): interrupted, resumable.
    const jobFile = join(runDir, 'final-job.json');
    const job = JSON.parse(readFileSync(jobFile, 'utf8')) as Record<string, unknown>;
    writeFileSync(jobFile, JSON.stringify({ ...job, paused: false, pid: 4_194_000 }));
    expect(value(await engine.call('final.get', { runId })).state).toBe('interrupted');
    ended = finalEnded(engine);
    value(await engine.call('final.resume', { runId }));
    expect((await ended).state).toBe('finished');
    const final = value(await engine.call('final.get', { runId }));
    expect(final.state).toBe('finished');
    expect(final.request).toBeNull();
    // Nothing left to cancel: the run's final model is never deleted by a cancel.
    expect(await engine.call('final.cancel', { runId })).toMatchObject({
      ok: false,
      error: { code: 'conflict' },
    });
    // Cancelled while training: what it trained is deleted, the run's final model stays as it was.
    const secondEpoch = new Promise<void>((resolve) => {
      const off = engine.on('final.progressed', () => {
        off();
        resolve();
      });
    });
    value(await engine.call('final.start', { runId, epochs: 50, stepsPerEpoch: 1, fresh: true }));
    await secondEpoch;
    const cancelled = value(await engine.call('final.cancel', { runId }));
    expect(cancelled.state).toBe('finished');
    expect(cancelled.model).toEqual(final.model);
    expect(existsSync(join(runDir, 'final.partial'))).toBe(false);
    expect(existsSync(jobFile)).toBe(false);
    expect(final.model).toMatchObject({ status: 'completed', epochsRun: 5 });
    // The resumed training continued the paused one's log: every epoch once, in order.
    expect(final.curves.map((p) => p.epoch)).toEqual([0, 1, 2, 3, 4]);
    const progressed = events.filter((e) => e.name === 'final.progressed');
    expect(progressed.length).toBeGreaterThanOrEqual(1);
    expect(progressed[0]?.payload).toMatchObject({ runId, epochs: 5, point: { epoch: 0 } });
    expect(value(await engine.call('final.list', {})).map((f) => f.runId)).toEqual([runId]);

    // The test cases: set aside by the search, never preprocessed for training nor listed in its set-up.
    const training = JSON.parse(readFileSync(join(runDir, 'training.json'), 'utf8')) as {
      split: { test: string[] };
      train: { id: string }[];
      val: { id: string }[];
      cacheFolder: string;
    };
    const testIds = training.split.test;
    expect(testIds.length).toBeGreaterThan(0);
    const seen = [...training.train, ...training.val].map((c) => c.id);
    expect(seen.length).toBeGreaterThan(0);
    for (const id of testIds) expect(seen).not.toContain(id);
    const cached = readdirSync(training.cacheFolder);
    expect(cached.length).toBeGreaterThan(0);
    for (const id of testIds)
      expect(
        cached.some((name) => name.includes(id)),
        id,
      ).toBe(false);

    const evaluation = value(await engine.call('test.evaluate', { runId }));
    expect(evaluation.model).toBe('final');
    expect(evaluation.cases.map((c) => c.id).sort()).toEqual([...testIds].sort());
    expect(evaluation.predicted).toBe(testIds.length);
    expect(evaluation.report).not.toBeNull();
    expect(Object.keys(evaluation.structures).sort()).toEqual(['Anterior', 'Posterior']);
    for (let i = 1; i < evaluation.cases.length; i++) {
      expect(evaluation.cases[i]!.meanDice).toBeGreaterThanOrEqual(evaluation.cases[i - 1]!.meanDice);
    }
    expect(events.some((e) => e.name === 'test.progressed')).toBe(true);
    const again = value(await engine.call('test.evaluate', { runId, model: 'final' }));
    expect(again.predicted).toBe(0);
    expect(again.cases).toEqual(evaluation.cases);
    const candidate = value(await engine.call('run.get', { runId })).front[0]?.id as string;
    const ofCandidate = value(await engine.call('test.evaluate', { runId, model: candidate }));
    expect(ofCandidate.modelDir).toBe(join(runDir, 'candidates', candidate));
    expect(ofCandidate.cases.map((c) => c.id).sort()).toEqual([...testIds].sort());

    // New scans without labels, one of them broken: named, the others predicted on their own grids.
    const scans = join(temp, 'scans');
    mkdirSync(scans);
    for (const id of ['hippocampus_011', 'hippocampus_015']) {
      copyFileSync(join(DEMO_IMAGES, `${id}.nii.gz`), join(scans, `${id}.nii.gz`));
    }
    writeFileSync(join(scans, 'broken.nii.gz'), 'not an image at all');
    const out = join(temp, 'predicted');
    const applied = value(await engine.call('scans.apply', { runId, inputs: [scans], folder: out }));
    expect(applied.scans.map((s) => s.output).sort()).toEqual([
      join(out, 'hippocampus_011.nii.gz'),
      join(out, 'hippocampus_015.nii.gz'),
    ]);
    expect(applied.failures.length).toBe(1);
    expect(applied.failures[0]?.message).toContain('broken.nii.gz');
    expect(existsSync(join(out, 'broken.nii.gz'))).toBe(false);
    for (const scan of applied.scans) {
      expect(Object.keys(scan.volumesMl).sort()).toEqual(['Anterior', 'Posterior']);
      for (const ml of Object.values(scan.volumesMl)) expect(ml).toBeGreaterThanOrEqual(0);
      const [source, written] = [await readVolume(scan.input), await readVolume(scan.output)];
      expect(written.shape).toEqual(source.shape);
      expect(written.spacing).toEqual(source.spacing);
      expect(written.origin).toEqual(source.origin);
      expect(written.direction).toEqual(source.direction);
    }
    expect(events.some((e) => e.name === 'scans.progressed')).toBe(true);
    // A 4D series (as ACDC ships its cine) is predicted frame by frame, named as ACDC names its frames.
    const frame = await readVolume(join(scans, 'hippocampus_011.nii.gz'));
    const cine = join(temp, 'cine_4d.nii.gz');
    writeFileSync(cine, gzipSync(encodeNifti4d([frame, frame], cine)));
    const cineOut = join(temp, 'cine-predicted');
    const cineApplied = value(await engine.call('scans.apply', { runId, inputs: [cine], folder: cineOut }));
    expect(cineApplied.failures).toEqual([]);
    expect(cineApplied.scans.map((s) => [s.frame, s.output])).toEqual([
      [1, join(cineOut, 'cine_4d_frame01.nii.gz')],
      [2, join(cineOut, 'cine_4d_frame02.nii.gz')],
    ]);
    const frameWritten = await readVolume(join(cineOut, 'cine_4d_frame02.nii.gz'));
    expect(frameWritten.shape).toEqual(frame.shape);
    expect(frameWritten.spacing).toEqual(frame.spacing);
    expect(cineApplied.scans[1]?.volumesMl).toEqual(applied.scans[0]?.volumesMl);
    expect(await engine.call('scans.apply', { runId, inputs: [scans], folder: out })).toMatchObject({
      ok: false,
      error: { code: 'exists' },
    });
    await engine.close();

    // The command line goes through the same service functions.
    const cli = (...args: string[]) =>
      spawnSync(process.execPath, [EMONAS, ...args], { encoding: 'utf8', timeout: 150_000 });
    const tested = cli('evaluate-test', runDir, '--json');
    expect(tested.status, tested.stderr).toBe(0);
    expect((JSON.parse(tested.stdout) as { cases: unknown }).cases).toEqual(evaluation.cases);
    const cliOut = join(temp, 'cli-predicted');
    const cliApplied = cli(
      'apply',
      '--model',
      join(runDir, 'final'),
      '--input',
      scans,
      '--out',
      cliOut,
      '--json',
    );
    expect(cliApplied.status).toBe(1);
    expect(cliApplied.stderr).toContain('broken.nii.gz');
    const cliScans = (JSON.parse(cliApplied.stdout) as { scans: { volumesMl: unknown }[] }).scans;
    expect(cliScans.map((s) => s.volumesMl)).toEqual(applied.scans.map((s) => s.volumesMl));
  },
);

it('answers mistakes with a sentence: no run, no final model, nothing to finalize', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'emonas-finish-errors-'));
  const engine = createEngine({ dataDir, log: () => undefined });
  expect(await engine.call('final.get', { runId: 'run-missing' })).toMatchObject({
    ok: false,
    error: { code: 'not_found', message: expect.stringContaining("no run 'run-missing'") },
  });
  const searched = new Promise<void>((resolve) => engine.on('run.finished', () => resolve()));
  const run = value(
    await engine.call('search.start', {
      config: { algorithm: 'samea', preset: 'quick', population: 3, generations: 3, seed: 2 },
      problem: { kind: 'formula' },
    }),
  );
  await searched;
  const { runId } = run;
  expect(value(await engine.call('final.list', {}))).toEqual([]);
  expect(await engine.call('test.evaluate', { runId })).toMatchObject({
    ok: false,
    error: { code: 'not_found', message: expect.stringContaining('no final model yet') },
  });
  expect(
    await engine.call('scans.apply', { runId, model: 'g9-c9', inputs: ['/tmp'], folder: '/tmp/x' }),
  ).toMatchObject({ ok: false, error: { code: 'not_found', message: expect.stringContaining("'g9-c9'") } });
  // The formula problem has no network: the final training fails with the reason, and stays listed.
  const ended = finalEnded(engine);
  value(await engine.call('final.start', { runId }));
  const failed = await ended;
  expect(failed.state).toBe('failed');
  expect(failed.reason).toContain('formula');
  expect(value(await engine.call('final.list', {})).map((f) => [f.runId, f.state])).toEqual([
    [runId, 'failed'],
  ]);
  await engine.close();
});
