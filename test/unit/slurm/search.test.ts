// A small SaMEA search on the formula problem run through the real single-node Slurm, through what a shared
// cluster does to jobs: one task is cancelled from outside (retried), one hangs past its time limit (killed
// by Slurm with TIMEOUT, resubmitted, resumed from its checkpoint), and the coordinator is killed with
// SIGKILL mid-generation and started again (it reattaches and submits nothing twice). The front must be
// the one a local run with the same seed finds.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { afterAll, expect, it } from 'vitest';
import { formulaEvaluatorSpec, slurmJobName, slurmStateDir } from '../../../core/executors/slurm/create.ts';
import type { LedgerEvent } from '../../../core/executors/slurm/ledger.ts';
import { SlurmCommands, type QueueRow } from '../../../core/executors/slurm/slurm-commands.ts';
import { readJournal } from '../../../core/runs/journal.ts';
import { front, parseFormulaProblem, startSearch } from '../../../core/service/search.ts';
import { tempDirs } from '../../fixtures/temp-dir.ts';
import { describeWithSlurm, testConfig } from './cluster.ts';

const CHILD = fileURLToPath(new URL('./coordinator-child.ts', import.meta.url));
/** 6 candidates in generation 0 and 6 in generation 1, each generation one job array. */
const CONFIG = {
  preset: 'quick',
  seed: 3,
  population: 6,
  generations: 2,
  learningGenerations: 1,
  evaluationOrder: 'generation',
  surrogate: { trees: 30 },
};
/** Slurm's shortest time limit (1 min) and a GPU per task: two tasks at a time on the two fake GPUs. */
const SLURM = testConfig({ timeLimitMinutes: 1, gpusPerTask: 1, maxRetries: 2 });
/** Four one-second "epochs", each followed by a checkpoint. */
const EVALUATOR = formulaEvaluatorSpec(parseFormulaProblem({ kind: 'formula' }), {
  epochs: 4,
  epochMs: 1000,
});

const temp = tempDirs('slurm-search');
const slurm = new SlurmCommands(null);
const children = new Set<ChildProcess>();
const jobNames = new Set<string>();
afterAll(async () => {
  for (const child of children) child.kill('SIGKILL');
  for (const name of jobNames) execFileSync('scancel', [`--name=${name}`]);
  temp.cleanup();
});

class Coordinator {
  readonly child: ChildProcess;
  out = '';
  err = '';
  readonly exited: Promise<{ code: number | null; signal: string | null }>;

  constructor(runDir: string) {
    this.child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        CHILD,
        runDir,
        JSON.stringify(CONFIG),
        JSON.stringify(SLURM),
        JSON.stringify(EVALUATOR),
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    children.add(this.child);
    this.child.stdout?.on('data', (d: Buffer) => (this.out += d.toString()));
    this.child.stderr?.on('data', (d: Buffer) => (this.err += d.toString()));
    this.exited = new Promise((resolve) =>
      this.child.on('exit', (code, signal) => {
        children.delete(this.child);
        resolve({ code, signal });
      }),
    );
  }

  /** Resolves with the first line matching, or fails with the output so far. */
  async line(pattern: RegExp, timeoutMs: number): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.out.split('\n').find((l) => pattern.test(l));
      if (found !== undefined) return found;
      if (Date.now() > deadline || this.child.exitCode !== null) {
        throw new Error(
          `the coordinator never printed ${pattern}; stdout:\n${this.out}\nstderr:\n${this.err}`,
        );
      }
      await sleep(200);
    }
  }
}

async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(300);
  }
}

/** Array task (`<job>_<index>`) -> candidate id, from the executor's ledger. */
function placements(runDir: string): Map<string, string> {
  let text = '';
  try {
    text = readFileSync(join(slurmStateDir(runDir), 'ledger.jsonl'), 'utf8');
  } catch {
    return new Map();
  }
  const events = text
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as LedgerEvent);
  const jobs = new Map(events.flatMap((e) => (e.t === 'submitted' ? [[e.batch, e.jobId] as const] : [])));
  const map = new Map<string, string>();
  for (const e of events) {
    if (e.t !== 'batch') continue;
    for (const task of e.tasks) map.set(`${jobs.get(e.batch) ?? 'unsubmitted'}_${task.index}`, task.id);
  }
  return map;
}

function readJson(path: string): Record<string, unknown> | undefined {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

function savedEpoch(runDir: string, id: string): number {
  const checkpoint = readJson(join(runDir, 'candidates', id, 'checkpoint.json'));
  return ((checkpoint?.state as { epoch?: number } | undefined)?.epoch ?? 0) as number;
}

describeWithSlurm('a search on Slurm', () => {
  it('survives a cancel, a time limit and a coordinator restart, and finds the local front', async () => {
    const root = temp.make();
    const local = await startSearch({
      runDir: join(root, 'local'),
      config: CONFIG,
      problem: { kind: 'formula' },
    });
    const runDir = join(root, 'slurm-run');
    const jobName = slurmJobName(runDir);
    jobNames.add(jobName);

    const first = new Coordinator(runDir);
    const running = await waitFor(
      'two candidates running past their first epoch',
      async () => {
        const owners = placements(runDir);
        const rows = (await slurm.squeue(jobName)).filter((r) => r.state === 'RUNNING');
        const ready = rows
          .map((row) => ({ row, id: owners.get(row.key) as string }))
          .filter((t) => t.id !== undefined && savedEpoch(runDir, t.id) >= 1);
        return ready.length >= 2 ? ready : undefined;
      },
      90_000,
    );
    const [hung, cancelled] = running as [{ row: QueueRow; id: string }, { row: QueueRow; id: string }];

    // A task that stops making progress (SIGSTOP) runs into its time limit; Slurm wakes and terminates it.
    const pids = execFileSync('scontrol', ['listpids', hung.row.jobId], { encoding: 'utf8' })
      .split('\n')
      .slice(1)
      .map((l) => Number(l.trim().split(/\s+/)[0]))
      .filter((pid) => Number.isInteger(pid) && pid > 0);
    expect(pids.length).toBeGreaterThan(0);
    for (const pid of pids) process.kill(pid, 'SIGSTOP');
    // Someone else cancels a running task of ours.
    execFileSync('scancel', [cancelled.row.key]);
    await first.line(
      new RegExp(`candidate ${cancelled.id} was cancelled outside .*submitting it again`),
      30_000,
    );

    // The coordinator dies mid-generation: the hung task and the resubmitted one are still in Slurm.
    first.child.kill('SIGKILL');
    expect((await first.exited).signal).toBe('SIGKILL');
    const second = new Coordinator(runDir);
    await second.line(/^ready resume$/, 10_000);
    await second.line(/^finished 12$/, 170_000);
    expect(second.out).toContain(
      `Slurm job ${hung.row.key} of candidate ${hung.id} reached its time limit of 1 minutes`,
    );

    const { records } = readJournal(join(runDir, 'journal.jsonl'));
    const notes = records.flatMap((r) => (r.t === 'note' ? [r.message] : []));
    expect(notes.some((n) => /^Reattached to \d+ evaluation/.test(n) && n.includes(hung.id))).toBe(true);

    // Nothing was submitted twice: Slurm ran each candidate once, the cancelled and the hung one twice.
    const owners = placements(runDir);
    const rows = await slurm.squeue(jobName);
    const runs = new Map<string, number>();
    for (const row of rows) {
      const id = owners.get(row.key);
      expect(id, `array task ${row.key} belongs to no candidate`).toBeDefined();
      runs.set(id as string, (runs.get(id as string) ?? 0) + 1);
    }
    expect(runs.size).toBe(12);
    for (const [id, count] of runs) expect(count, id).toBe(id === hung.id || id === cancelled.id ? 2 : 1);

    // Both interrupted tasks resumed from their checkpoints and completed.
    for (const id of [hung.id, cancelled.id]) {
      const result = readJson(join(runDir, 'candidates', id, 'result.json'));
      expect(result?.writtenBy).toBe('worker');
      expect((result?.outcome as { status: string }).status).toBe('completed');
      expect((result?.resumedFrom as { epoch: number }).epoch).toBeGreaterThanOrEqual(1);
    }
    const results = records.filter((r) => r.t === 'result');
    expect(new Set(results.map((r) => r.id)).size).toBe(results.length);
    expect(front({ runDir })).toEqual(local.front);
  }, 240_000);
});
