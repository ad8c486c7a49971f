// Runs in: the vitest worker. A run whose search fails after its folder exists stays listed as failed, with
// its reason, by a new engine over the same data folder (the reason is kept in <run>/failed.json), and
// driving it again clears that.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runStatus } from '../../../core/cli/cmd-runs.ts';
import { RUN_FILES } from '../../../core/runs/run-folder.ts';
import { createEngine, type Engine } from '../../../core/service/index.ts';
import { runsIn } from '../../../core/service/runs.ts';
import { value } from '../../fixtures/api-value.ts';

const dataDir = mkdtempSync(join(tmpdir(), 'emonas-failed-run-'));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

function engineOver(): Engine {
  return createEngine({ dataDir, log: () => undefined });
}

describe('a run that failed after its folder was written', () => {
  it('is listed as failed with the same reason by a new engine, until it is driven again', async () => {
    const first = engineOver();
    const quick = { algorithm: 'random', preset: 'quick', generations: 2, batch: 3, seed: 1 };
    const run = value(
      await first.call('search.start', { config: quick, problem: { kind: 'formula', delayMs: 100 } }),
    );
    await new Promise<void>((resolve) => first.on('candidate.completed', () => resolve()));
    await first.close();
    const manifestFile = join(run.runDir, RUN_FILES.manifest);
    const manifest = readFileSync(manifestFile, 'utf8');
    // A run.json damaged by hand: its problem has a setting no formula problem has, so resuming fails.
    const damaged = JSON.parse(manifest) as { problem: Record<string, unknown> };
    damaged.problem.bogus = 1;
    writeFileSync(manifestFile, JSON.stringify(damaged));

    const second = engineOver();
    const failed = new Promise<{ message: string }>((resolve) =>
      second.on('run.failed', ({ error }) => resolve(error)),
    );
    value(await second.call('search.resume', { runId: run.runId }));
    const { message } = await failed;
    expect(message).toContain('bogus');
    await second.close();
    expect(existsSync(join(run.runDir, RUN_FILES.failed))).toBe(true);

    const third = engineOver();
    const listed = value(await third.call('run.list', {}));
    expect(listed.map((r) => [r.runId, r.state, r.reason])).toEqual([[run.runId, 'failed', message]]);
    expect(value(await third.call('run.get', { runId: run.runId })).summary).toMatchObject({
      state: 'failed',
      reason: message,
    });
    const [onDisk] = runsIn(join(dataDir, 'runs'));
    expect(onDisk && [runStatus(onDisk), onDisk.failure]).toEqual(['failed', message]);

    // Repaired and resumed: the failure no longer describes the run.
    writeFileSync(manifestFile, manifest);
    const finished = new Promise<void>((resolve) => third.on('run.finished', () => resolve()));
    value(await third.call('search.resume', { runId: run.runId }));
    await finished;
    expect(existsSync(join(run.runDir, RUN_FILES.failed))).toBe(false);
    const after = value(await third.call('run.get', { runId: run.runId })).summary;
    expect(after.state).toBe('finished');
    expect(after.reason).toBeUndefined();
    await third.close();
  });
});
