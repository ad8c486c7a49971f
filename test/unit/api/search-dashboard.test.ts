// The engine's side of the search dashboard: a run's whole progress read from its folder (so a client that
// missed throttled events still sees the truth), a candidate's learning curves, cancel, and a run whose
// engine died shown as interrupted and resumable.
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { EventName } from '../../../core/api/events.ts';
import { createEngine } from '../../../core/service/index.ts';
import { value } from '../../fixtures/api-value.ts';

const quick = { algorithm: 'samea', preset: 'quick', population: 3, generations: 3, seed: 2 };

function setup() {
  const dataDir = mkdtempSync(join(tmpdir(), 'emonas-dashboard-'));
  const engine = createEngine({ dataDir, log: () => undefined });
  const events: EventName[] = [];
  engine.onAnyEvent((name) => events.push(name));
  return { dataDir, engine, events };
}

/** A process id that is certainly not running: far above Linux's pid_max default range. */
const DEAD_PID = 4_194_000;

describe('run.progress', () => {
  it('gives the plan, every candidate with its fate, and hypervolume per generation', async () => {
    const { engine } = setup();
    const finished = new Promise<void>((resolve) => engine.on('run.finished', () => resolve()));
    const run = value(
      await engine.call('search.start', {
        // Seed 5 draws two 9-cell networks with a high learning rate, which diverge in the formula problem.
        config: { ...quick, seed: 5, surrogate: { enabled: false } },
        problem: { kind: 'formula', divergence: true },
      }),
    );
    await finished;
    const progress = value(await engine.call('run.progress', { runId: run.runId }));
    expect(progress.summary.state).toBe('finished');
    expect(progress.plan).toMatchObject({
      generations: 3,
      population: 3,
      expectedCandidates: 9,
      surrogate: false,
      workers: 1,
      dataset: null,
    });
    expect(progress.candidates.length).toBe(progress.summary.evaluated);
    expect(progress.candidates.every((c) => c.status === 'completed' || c.status === 'failed')).toBe(true);
    const failed = progress.candidates.filter((c) => c.status === 'failed');
    expect(failed.length).toBe(2);
    expect(progress.summary.failed).toBe(2);
    for (const c of failed) expect(c.failure?.reason).toMatch(/\w+ \w+/);
    const front = value(await engine.call('run.get', { runId: run.runId })).front.map((c) => c.id);
    expect(
      progress.candidates
        .filter((c) => c.onFront)
        .map((c) => c.id)
        .sort(),
    ).toEqual([...front].sort());
    expect(progress.generations.map((g) => g.generation)).toEqual([0, 1, 2]);
    const hv = progress.generations.map((g) => g.hypervolume as number);
    // The archive only grows, so its hypervolume never falls.
    for (let i = 1; i < hv.length; i++) expect(hv[i]).toBeGreaterThanOrEqual(hv[i - 1] as number);
    expect(progress.meanCandidateSeconds).not.toBeNull();
  });

  it('reads training curves from a candidate folder, skipping a torn last line', async () => {
    const { engine, dataDir } = setup();
    const finished = new Promise<void>((resolve) => engine.on('run.finished', () => resolve()));
    const run = value(await engine.call('search.start', { config: quick, problem: { kind: 'formula' } }));
    await finished;
    const { candidates } = value(await engine.call('run.progress', { runId: run.runId }));
    const id = candidates[0]?.id as string;
    expect(value(await engine.call('candidate.curves', { runId: run.runId, candidateId: id }))).toEqual([]);
    const folder = join(dataDir, 'runs', run.runId, 'candidates', id);
    mkdirSync(folder, { recursive: true });
    writeFileSync(
      join(folder, 'training-log.csv'),
      'epoch,loss,val_loss,val_dice_Anterior,val_dice_Posterior,lr,seconds\n' +
        '0,0.9,0.95,0.1,0.2,0.0004,3.1\n1,0.7,0.8,0.4,0.45,0.0004,3.0\n2,0.6,0.',
    );
    expect(value(await engine.call('candidate.curves', { runId: run.runId, candidateId: id }))).toEqual([
      { epoch: 0, trainLoss: 0.9, valLoss: 0.95, valDice: { Anterior: 0.1, Posterior: 0.2 } },
      { epoch: 1, trainLoss: 0.7, valLoss: 0.8, valDice: { Anterior: 0.4, Posterior: 0.45 } },
    ]);
    expect(await engine.call('candidate.curves', { runId: run.runId, candidateId: 'g9-c9' })).toMatchObject({
      ok: false,
      error: { code: 'not_found', message: expect.stringContaining('g9-c9') },
    });
  });
});

describe('cancel and interruption', () => {
  it('cancels a running search for good: kept, listed as cancelled, refused on resume', async () => {
    const { engine } = setup();
    const run = value(
      await engine.call('search.start', { config: quick, problem: { kind: 'formula', delayMs: 60 } }),
    );
    await new Promise<void>((resolve) => engine.on('candidate.completed', () => resolve()));
    const cancelled = value(await engine.call('search.cancel', { runId: run.runId }));
    expect(cancelled.state).toBe('cancelled');
    expect(cancelled.evaluated).toBeGreaterThan(0);
    expect(await engine.call('search.resume', { runId: run.runId })).toMatchObject({
      ok: false,
      error: { code: 'conflict', message: expect.stringContaining('cancelled') },
    });
    expect(await engine.call('search.cancel', { runId: run.runId })).toMatchObject({
      ok: false,
      error: { code: 'conflict' },
    });
  });

  it('shows a run whose engine died as interrupted, and resumes it to the end', async () => {
    const { dataDir, engine } = setup();
    const run = value(
      await engine.call('search.start', { config: quick, problem: { kind: 'formula', delayMs: 30 } }),
    );
    await new Promise<void>((resolve) => engine.on('candidate.completed', () => resolve()));
    await engine.close();
    // What a killed engine leaves behind: the run's lock naming a process that is gone.
    writeFileSync(join(dataDir, 'runs', run.runId, 'run.lock'), String(DEAD_PID));
    const second = createEngine({ dataDir, log: () => undefined });
    const [listed] = value(await second.call('run.list', {}));
    expect(listed?.state).toBe('interrupted');
    const progress = value(await second.call('run.progress', { runId: run.runId }));
    // Nothing is training in a run nobody drives: what was submitted waits to be trained again.
    expect(progress.candidates.some((c) => c.status === 'training')).toBe(false);
    const finished = new Promise<void>((resolve) => second.on('run.finished', () => resolve()));
    expect(value(await second.call('search.resume', { runId: run.runId })).state).toBe('running');
    await finished;
    const after = value(await second.call('run.progress', { runId: run.runId }));
    expect(after.summary.state).toBe('finished');
    expect(after.candidates.length).toBeGreaterThan(0);
    expect(after.candidates.every((c) => c.status === 'completed' || c.status === 'failed')).toBe(true);
  });

  it('refuses to resume or cancel a run that another live process drives', async () => {
    const { dataDir, engine } = setup();
    const run = value(
      await engine.call('search.start', { config: quick, problem: { kind: 'formula', delayMs: 30 } }),
    );
    await new Promise<void>((resolve) => engine.on('candidate.completed', () => resolve()));
    await engine.close();
    // The test runner's parent stands in for, say, `emonas resume` running in a terminal.
    writeFileSync(join(dataDir, 'runs', run.runId, 'run.lock'), String(process.ppid));
    const other = createEngine({ dataDir, log: () => undefined });
    expect(value(await other.call('run.get', { runId: run.runId })).summary.state).toBe('running');
    for (const method of ['search.resume', 'search.cancel'] as const) {
      expect(await other.call(method, { runId: run.runId }), method).toMatchObject({
        ok: false,
        error: { code: 'conflict', message: expect.stringContaining('another process') },
      });
    }
    expect(existsSync(join(dataDir, 'runs', run.runId, 'cancelled.json'))).toBe(false);
  });
});
