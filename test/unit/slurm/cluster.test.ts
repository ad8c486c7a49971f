// Runs in: a test process. The Slurm executor on the real single-node cluster (scripts/slurm/up.sh). The
// executor contract suite (test/unit/executors/contract.ts) runs with every probe task an array task of
// `emonas worker`; meanwhile, a small search runs through the cluster's GPUs with a task cancelled from
// outside, one hung past its time limit and its coordinator killed and restarted (search-scenario.ts). The
// two share the wall time, since the search spends most of it waiting for Slurm's shortest time limit; so
// does a real training frozen past its time limit, which must resume from its checkpoint
// (training-scenario.ts).
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { SlurmCommands } from '../../../core/executors/slurm/slurm-commands.ts';
import { readJournal } from '../../../core/runs/journal.ts';
import { front } from '../../../core/runs/run-summary.ts';
import { tempDirs } from '../../fixtures/temp-dir.ts';
import { describeWithSlurm, testConfig } from './availability.ts';
import { slurmExecutorContract } from './slurm-contract.ts';
import {
  cleanUpTrainingScenario,
  runTrainingScenario,
  TRAINING_EPOCHS,
  type TrainingScenarioOutcome,
} from './training-scenario.ts';
import {
  cleanUpScenario,
  placements,
  readJson,
  runSearchScenario,
  type ScenarioOutcome,
} from './search-scenario.ts';

const temp = tempDirs('slurm-cluster');
afterAll(() => {
  cleanUpScenario();
  cleanUpTrainingScenario();
  temp.cleanup();
});

describeWithSlurm('Slurm executor on the test cluster', () => {
  let scenario: Promise<ScenarioOutcome> | undefined;
  let training: Promise<TrainingScenarioOutcome> | undefined;
  beforeAll(() => {
    scenario = runSearchScenario(temp.make());
    training = runTrainingScenario(temp.make());
    // Their failures are reported by the tests that await them.
    scenario.catch(() => undefined);
    training.catch(() => undefined);
  });

  slurmExecutorContract('slurm', testConfig, temp.make);

  it('runs a search through a cancel, a time limit and a coordinator restart to the local front', async () => {
    const s = await (scenario as Promise<ScenarioOutcome>);
    expect(s.firstExit.signal).toBe('SIGKILL');
    expect(s.secondOut).toContain(
      `Slurm job ${s.hung.key} of candidate ${s.hung.id} reached its time limit of 1 minutes`,
    );
    const { records } = readJournal(join(s.runDir, 'journal.jsonl'));
    const notes = records.flatMap((r) => (r.t === 'note' ? [r.message] : []));
    expect(notes.some((n) => /^Reattached to \d+ evaluation/.test(n) && n.includes(s.hung.id))).toBe(true);

    // Nothing was submitted twice: Slurm ran each candidate once, the cancelled and the hung one twice.
    const owners = placements(s.runDir);
    const runs = new Map<string, number>();
    for (const row of await new SlurmCommands(null).squeue(s.jobName)) {
      const id = owners.get(row.key);
      expect(id, `array task ${row.key} belongs to no candidate`).toBeDefined();
      runs.set(id as string, (runs.get(id as string) ?? 0) + 1);
    }
    expect(runs.size).toBe(12);
    for (const [id, count] of runs) {
      expect(count, id).toBe(id === s.hung.id || id === s.cancelled.id ? 2 : 1);
    }

    // Both interrupted tasks resumed from their checkpoints and completed.
    for (const id of [s.hung.id, s.cancelled.id]) {
      const result = readJson(join(s.runDir, 'candidates', id, 'result.json'));
      expect(result?.writtenBy).toBe('worker');
      expect((result?.outcome as { status: string }).status).toBe('completed');
      expect((result?.resumedFrom as { epoch: number }).epoch).toBeGreaterThanOrEqual(1);
    }
    const results = records.filter((r) => r.t === 'result');
    expect(new Set(results.map((r) => r.id)).size).toBe(results.length);
    expect(results).toHaveLength(12);
    expect(front({ runDir: s.runDir })).toEqual(s.localFront);
  }, 240_000);

  it('resumes a training task killed past its time limit from its checkpoint, not from scratch', async () => {
    const t = await (training as Promise<TrainingScenarioOutcome>);
    expect(t.frozenAfter).toBeGreaterThanOrEqual(2);
    expect(t.result.outcome).toMatchObject({ status: 'completed', epochs: TRAINING_EPOCHS });
    expect(t.file.writtenBy).toBe('worker');
    const resumedFrom = (t.file.resumedFrom as { epoch: number }).epoch;
    expect(resumedFrom).toBeGreaterThanOrEqual(t.frozenAfter);
    // Two runs: the first stopped by Slurm's SIGTERM at its time limit, the second took up the checkpoint.
    expect(t.logs).toHaveLength(2);
    const [first, second] = t.logs as [string, string];
    expect(first).toContain('Received SIGTERM; stopping after the last checkpoint.');
    const resumedAt = /Resuming the training after epoch (\d+) of (\d+), from its checkpoint\./.exec(second);
    expect(resumedAt, second).not.toBeNull();
    expect(Number(resumedAt?.[1])).toBe(resumedFrom);
    expect(Number(resumedAt?.[2])).toBe(TRAINING_EPOCHS);
    // Every epoch was checkpointed once, in order: none before the checkpoint trained again, none after it
    // lost.
    const saved = t.logs.flatMap((log) =>
      [...log.matchAll(/Checkpoint saved after epoch (\d+)\./g)].map((m) => Number(m[1])),
    );
    expect(saved).toEqual(Array.from({ length: TRAINING_EPOCHS }, (_, e) => e + 1));
    const rows = readFileSync(join(t.workDir, 'training-log.csv'), 'utf8').trim().split('\n');
    expect(rows.map((r) => r.split(',')[0])).toEqual([
      'epoch',
      ...Array.from({ length: TRAINING_EPOCHS }, (_, e) => String(e)),
    ]);
    expect(existsSync(join(t.workDir, 'training-checkpoint.bin'))).toBe(false);
  }, 300_000);
});
