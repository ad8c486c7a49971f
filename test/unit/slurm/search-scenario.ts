// Runs in: a test process. The search scenario of cluster.test.ts: a small SaMEA search on the formula
// problem through the real single-node Slurm, with what a shared cluster does to jobs: one task is cancelled
// from outside (to be retried), one hangs past its time limit (Slurm kills it with TIMEOUT; to be resubmitted
// and resumed from its checkpoint), and the coordinator is killed with SIGKILL mid-generation and started
// again (to reattach and submit nothing twice). It performs the events and returns what the test checks.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { formulaEvaluatorSpec, slurmJobName, slurmStateDir } from '../../../core/executors/slurm/create.ts';
import type { LedgerEvent } from '../../../core/executors/slurm/ledger.ts';
import { SlurmCommands, type QueueRow } from '../../../core/executors/slurm/slurm-commands.ts';
import type { FrontRow } from '../../../core/runs/run-summary.ts';
import { parseFormulaProblem } from '../../../core/search/problem-input.ts';
import { startSearch } from '../../../core/service/search.ts';
import { testConfig } from './availability.ts';

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
/**
 * Four two-second "epochs", each followed by a checkpoint: long enough that a task picked after its first or
 * second epoch is still running when it is stopped, on a loaded machine too (with one-second epochs a picked
 * task once finished first, and no time limit was reached).
 */
const EVALUATOR = formulaEvaluatorSpec(parseFormulaProblem({ kind: 'formula' }), {
  epochs: 4,
  epochMs: 2000,
});

const slurm = new SlurmCommands(null);
const children = new Set<ChildProcess>();
const jobNames = new Set<string>();

/** Kills the coordinators still running and cancels the scenario's jobs. */
export function cleanUpScenario(): void {
  for (const child of children) child.kill('SIGKILL');
  for (const name of jobNames) execFileSync('scancel', [`--name=${name}`]);
}

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
export function placements(runDir: string): Map<string, string> {
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

export function readJson(path: string): Record<string, unknown> | undefined {
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

export interface ScenarioOutcome {
  runDir: string;
  jobName: string;
  /** The front of the same search run in process. */
  localFront: FrontRow[];
  hung: { key: string; id: string };
  cancelled: { key: string; id: string };
  /** How the first coordinator ended (killed). */
  firstExit: { code: number | null; signal: string | null };
  /** Everything the second coordinator printed. */
  secondOut: string;
}

export async function runSearchScenario(root: string): Promise<ScenarioOutcome> {
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
    'two candidates running past their first epoch with two epochs still to go',
    async () => {
      const owners = placements(runDir);
      const rows = (await slurm.squeue(jobName)).filter((r) => r.state === 'RUNNING');
      const ready = rows
        .map((row) => ({ row, id: owners.get(row.key) as string }))
        .filter((t) => {
          const epoch = t.id === undefined ? 0 : savedEpoch(runDir, t.id);
          return epoch >= 1 && epoch <= 2;
        });
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
  if (pids.length === 0) throw new Error(`scontrol listpids found no process of job ${hung.row.jobId}`);
  for (const pid of pids) process.kill(pid, 'SIGSTOP');
  // Someone else cancels a running task of ours.
  execFileSync('scancel', [cancelled.row.key]);
  await first.line(
    new RegExp(`candidate ${cancelled.id} was cancelled outside .*submitting it again`),
    30_000,
  );

  // The coordinator dies mid-generation: the hung task and the resubmitted one are still in Slurm.
  first.child.kill('SIGKILL');
  const firstExit = await first.exited;
  const second = new Coordinator(runDir);
  // Only process start-up (tsx compiling the engine) comes before this line: seconds on a shared machine.
  await second.line(/^ready resume$/, 60_000);
  await second.line(/^finished 12$/, 200_000);
  return {
    runDir,
    jobName,
    localFront: local.front,
    hung: { key: hung.row.key, id: hung.id },
    cancelled: { key: cancelled.row.key, id: cancelled.id },
    firstExit,
    secondOut: second.out,
  };
}
