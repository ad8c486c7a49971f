import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { DatasetRecord } from '../../../core/api/datasets.ts';
import type { EventName } from '../../../core/api/events.ts';
import { methodNames } from '../../../core/api/methods.ts';
import { createEngine } from '../../../core/service/index.ts';
import { smallHippocampus } from './demo-fixture.ts';
import { value } from '../../fixtures/api-value.ts';

function setup() {
  const dataDir = mkdtempSync(join(tmpdir(), 'emonas-engine-'));
  const logs: string[] = [];
  const engine = createEngine({ dataDir, log: (m) => logs.push(m) });
  const events: { name: EventName; payload: unknown }[] = [];
  engine.onAnyEvent((name, payload) => events.push({ name, payload }));
  return { dataDir, engine, events, logs };
}

describe('the engine', () => {
  it('answers every method of the contract (no method without a handler)', async () => {
    const { engine } = setup();
    for (const method of methodNames) {
      const answer = await engine.callUnknown(method, { definitely: 'not a field' });
      expect(answer, method).toMatchObject({
        ok: false,
        error: { code: 'bad_request', details: { field: 'definitely' } },
      });
    }
  });

  it('refuses unknown methods and relative folders with a sentence', async () => {
    const { engine } = setup();
    expect(await engine.callUnknown('dataset.delete', {})).toMatchObject({
      ok: false,
      error: { code: 'bad_request', message: expect.stringContaining("no API method 'dataset.delete'") },
    });
    expect(await engine.call('dataset.inspect', { folder: 'data/Task04' })).toMatchObject({
      ok: false,
      error: { code: 'bad_request', message: expect.stringContaining('not a full path') },
    });
    const missing = await engine.call('dataset.inspect', { folder: '/nonexistent/emonas/folder' });
    expect(missing.ok).toBe(false);
    expect(!missing.ok && missing.error.message).toContain('/nonexistent/emonas/folder');
  });

  it('inspects a real Decathlon folder, reporting progress events, without writing anything', async () => {
    const { engine, events, dataDir } = setup();
    const folder = smallHippocampus();
    const report = value(await engine.call('dataset.inspect', { folder }));
    expect(report.kind).toBe('msd');
    expect(report.labels).toEqual({ 0: 'background', 1: 'Anterior', 2: 'Posterior' });
    expect(report.summary.usable).toBe(3);
    const progress = events.filter((e) => e.name === 'inspection.progressed').map((e) => e.payload);
    expect(progress.length).toBeGreaterThan(0);
    await engine.close();
    const all = events.filter((e) => e.name === 'inspection.progressed').map((e) => e.payload);
    expect(all.at(-1)).toEqual({ folder, done: 3, total: 3 });
    expect(existsSync(join(dataDir, 'datasets.json'))).toBe(false);
  });

  it('imports into the library, lists, gets, refuses a second import under the same name, and removes', async () => {
    const { engine, events, dataDir } = setup();
    const folder = smallHippocampus();
    const record = value(await engine.call('dataset.import', { folder, name: 'Hippo' }));
    expect(record).toMatchObject({
      name: 'Hippo',
      kind: 'msd',
      root: folder,
      copied: false,
      usable: 3,
      broken: 0,
    });
    expect(events.find((e) => e.name === 'dataset.imported')?.payload).toEqual({ record });
    expect(value(await engine.call('dataset.list', {}))).toEqual([record]);
    const { report } = value(await engine.call('dataset.get', { name: 'Hippo' }));
    expect(report.cases.map((c) => c.id)).toEqual(['hippocampus_001', 'hippocampus_003', 'hippocampus_004']);

    const again = await engine.call('dataset.import', { folder, name: 'Hippo' });
    expect(again).toMatchObject({ ok: false, error: { code: 'conflict' } });

    // A second engine on the same data folder (the command line next to the app) sees the same library.
    const other = createEngine({ dataDir });
    expect(value(await other.call('dataset.list', {})).map((d: DatasetRecord) => d.name)).toEqual(['Hippo']);

    value(await engine.call('dataset.remove', { name: 'Hippo' }));
    expect(events.find((e) => e.name === 'dataset.removed')?.payload).toEqual({ name: 'Hippo' });
    expect(value(await engine.call('dataset.list', {}))).toEqual([]);
    expect(existsSync(join(folder, 'dataset.json'))).toBe(true);
    expect(await engine.call('dataset.remove', { name: 'Hippo' })).toMatchObject({
      ok: false,
      error: { code: 'not_found' },
    });
  });

  it('copies the files only when asked, reads cases from the copy, and deletes the copy on removal', async () => {
    const { engine, dataDir } = setup();
    const folder = smallHippocampus(['hippocampus_001']);
    const record = value(await engine.call('dataset.import', { folder, name: 'Copied', copy: true }));
    const copy = join(dataDir, 'datasets', 'Copied', 'files');
    expect(record).toMatchObject({ copied: true, root: copy });
    const { report } = value(await engine.call('dataset.get', { name: 'Copied' }));
    expect(report.cases[0]?.image).toBe(join(copy, 'imagesTr', 'hippocampus_001.nii.gz'));
    expect(existsSync(report.cases[0]?.image ?? '')).toBe(true);
    value(await engine.call('dataset.remove', { name: 'Copied' }));
    expect(existsSync(copy)).toBe(false);
    expect(existsSync(join(folder, 'imagesTr', 'hippocampus_001.nii.gz'))).toBe(true);
  });

  it("gives a case's image and integer label map as typed arrays with their geometry", async () => {
    const { engine } = setup();
    const folder = smallHippocampus(['hippocampus_003']);
    value(await engine.call('dataset.import', { folder, name: 'H' }));
    const volume = value(await engine.call('case.volume', { dataset: 'H', caseId: 'hippocampus_003' }));
    const { image, label } = volume;
    expect(image.data.length).toBe(image.shape[0] * image.shape[1] * image.shape[2]);
    expect(image.spacing).toEqual([1, 1, 1]);
    expect(image.direction).toHaveLength(9);
    expect(label?.data).toBeInstanceOf(Uint8Array);
    expect(label?.shape).toEqual(image.shape);
    expect(new Set(label?.data)).toEqual(new Set([0, 1, 2]));
    expect(await engine.call('case.volume', { dataset: 'H', caseId: 'nope' })).toMatchObject({
      ok: false,
      error: { code: 'not_found', message: expect.stringContaining("no case 'nope'") },
    });
  });

  it('refuses to import a folder with no usable case, and a damaged library file is a sentence', async () => {
    const { engine, dataDir } = setup();
    const folder = smallHippocampus(['hippocampus_001']);
    writeFileSync(join(folder, 'labelsTr', 'hippocampus_001.nii.gz'), 'not a nifti');
    expect(await engine.call('dataset.import', { folder, name: 'Broken' })).toMatchObject({
      ok: false,
      error: { code: 'invalid_dataset', message: expect.stringContaining('no usable case') },
    });
    writeFileSync(join(dataDir, 'datasets.json'), '{ torn');
    const answer = await engine.call('dataset.list', {});
    expect(answer).toMatchObject({
      ok: false,
      error: { code: 'unreadable_file', file: join(dataDir, 'datasets.json') },
    });
    expect(readFileSync(join(dataDir, 'datasets.json'), 'utf8')).toBe('{ torn');
  });
});

describe('searches driven by the engine', () => {
  const quick = { algorithm: 'random', preset: 'quick', generations: 2, batch: 3, seed: 1 };

  it('starts a search that runs on, reporting events, and shows the run and its front', async () => {
    const { engine, events } = setup();
    const finished = new Promise<void>((resolve) => engine.on('run.finished', () => resolve()));
    const started = value(await engine.call('search.start', { config: quick, problem: { kind: 'formula' } }));
    expect(started).toMatchObject({ state: 'running', algorithm: 'random', problem: 'formula' });
    await finished;
    const runs = value(await engine.call('run.list', {}));
    expect(runs).toHaveLength(1);
    expect(runs[0]).toMatchObject({ runId: started.runId, state: 'finished', evaluated: 6, failed: 0 });
    const { front } = value(await engine.call('run.get', { runId: started.runId }));
    expect(front.length).toBeGreaterThan(0);
    expect(front[0]?.genome.ops).toHaveLength(4);
    const names = events.map((e) => e.name);
    expect(names[0]).toBe('run.started');
    expect(names).toContain('candidate.completed');
    expect(names.at(-1)).toBe('run.finished');
    expect(
      events.every(
        (e) =>
          e.name === 'run.started' ||
          e.name === 'run.finished' ||
          (e.payload as { runId: string }).runId === started.runId,
      ),
    ).toBe(true);
  });

  it('answers a bad configuration at once, naming the setting', async () => {
    const { engine } = setup();
    expect(await engine.call('search.start', { config: { algorithm: 'samea', populaton: 4 } })).toMatchObject(
      {
        ok: false,
        error: { code: 'bad_request', message: expect.stringContaining('populaton') },
      },
    );
    expect(value(await engine.call('run.list', {}))).toEqual([]);
  });

  it('pauses a running search, keeps it resumable, and resumes it to the end', async () => {
    const { engine } = setup();
    const paused = new Promise<void>((resolve) => engine.on('run.paused', () => resolve()));
    const run = value(
      await engine.call('search.start', { config: quick, problem: { kind: 'formula', delayMs: 40 } }),
    );
    await new Promise<void>((resolve) => engine.on('candidate.completed', () => resolve()));
    const stopping = value(await engine.call('search.pause', { runId: run.runId }));
    expect(['stopping', 'paused']).toContain(stopping.state);
    await paused;
    const after = value(await engine.call('run.get', { runId: run.runId })).summary;
    expect(after.state).toBe('paused');
    expect(after.evaluated).toBeLessThan(6);
    expect(await engine.call('search.pause', { runId: run.runId })).toMatchObject({
      ok: false,
      error: { code: 'conflict' },
    });

    const finished = new Promise<void>((resolve) => engine.on('run.finished', () => resolve()));
    expect(value(await engine.call('search.resume', { runId: run.runId })).state).toBe('running');
    expect(await engine.call('search.resume', { runId: run.runId })).toMatchObject({
      ok: false,
      error: { code: 'conflict' },
    });
    await finished;
    expect(value(await engine.call('run.get', { runId: run.runId })).summary).toMatchObject({
      state: 'finished',
      evaluated: 6,
    });
  });

  it('pauses running searches when the engine closes', async () => {
    const { engine } = setup();
    const run = value(
      await engine.call('search.start', { config: quick, problem: { kind: 'formula', delayMs: 200 } }),
    );
    await engine.close();
    expect(value(await engine.call('run.get', { runId: run.runId })).summary.state).toBe('paused');
  });
});
