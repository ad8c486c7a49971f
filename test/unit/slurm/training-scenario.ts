// Runs in: a test process. The training scenario of cluster.test.ts (issue 9, "a task killed past its time
// limit resumes from its checkpoint"): one candidate really trains (core/train on a small synthetic
// dataset) as a Slurm array task with the shortest time limit. Once its checkpoint has passed epoch 2 the
// task is frozen (SIGSTOP), so Slurm ends it at its time limit (SIGCONT, SIGTERM); the executor submits it
// again and the new run resumes the training from the last checkpoint. Returns what the test checks, each
// run's log in the order the executor submitted the runs.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { createSlurmExecutor } from '../../../core/executors/slurm/create.ts';
import type { LedgerEvent } from '../../../core/executors/slurm/ledger.ts';
import { SlurmCommands } from '../../../core/executors/slurm/slurm-commands.ts';
import { STATE_FILES } from '../../../core/executors/slurm/slurm-executor.ts';
import type { TaskResultFile } from '../../../core/executors/slurm/worker-files.ts';
import type { TaskResult } from '../../../core/executors/executor.ts';
import { encode } from '../../../core/searchspace/encoding.ts';
import { writeSyntheticSetup } from '../train/setup-fixture.ts';
import { SMALL_GENOME } from '../train/synthetic.ts';
import { testConfig } from './availability.ts';
import { readJson } from './search-scenario.ts';

/** Enough epochs that the task is still training when the test freezes it after epoch 2. */
export const TRAINING_EPOCHS = 12;
const jobNames = new Set<string>();

export function cleanUpTrainingScenario(): void {
  for (const name of jobNames) execFileSync('scancel', [`--name=${name}`]);
}

export interface TrainingScenarioOutcome {
  result: TaskResult;
  file: TaskResultFile;
  /** Each Slurm job's output for the task, in the order they were submitted: first run, then the rerun. */
  logs: string[];
  workDir: string;
  /** The epoch the checkpoint had reached when the task was frozen. */
  frozenAfter: number;
}

function savedEpoch(workDir: string): number {
  const state = readJson(join(workDir, 'checkpoint.json'))?.state as { epoch?: number } | undefined;
  return state?.epoch ?? 0;
}

/**
 * The log of each Slurm job that ran task `id`, in the order the executor submitted them (its ledger).
 * Each job writes its own log, named after its job id; the names do not sort in submission order (job 99
 * comes after job 100), and a later run may be a job array of another batch.
 */
function runLogs(stateDir: string, id: string): string[] {
  const events = readFileSync(join(stateDir, STATE_FILES.ledger), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as LedgerEvent);
  const indexIn = new Map<string, number>();
  const logs: string[] = [];
  for (const event of events) {
    if (event.t === 'batch') {
      const task = event.tasks.find((t) => t.id === id);
      if (task !== undefined) indexIn.set(event.batch, task.index);
    } else if (event.t === 'submitted' && indexIn.has(event.batch)) {
      logs.push(join(stateDir, STATE_FILES.logs, `${event.jobId}_${indexIn.get(event.batch)}.log`));
    }
  }
  return logs;
}

export async function runTrainingScenario(root: string): Promise<TrainingScenarioOutcome> {
  const { evaluator } = await writeSyntheticSetup(root, {
    epochs: TRAINING_EPOCHS,
    stepsPerEpoch: 4,
    batchSize: 2,
  });
  const jobName = `emonas-train-resume-${process.pid}`;
  jobNames.add(jobName);
  const stateDir = join(root, 'slurm');
  // No GPU: the search scenario holds the two fake ones meanwhile.
  const executor = createSlurmExecutor(testConfig({ timeLimitMinutes: 1, gpusPerTask: 0, maxRetries: 2 }), {
    stateDir,
    jobName,
    evaluator,
  });
  const workDir = join(root, 'candidate');
  try {
    await executor.submit([
      { id: 'trained', genome: SMALL_GENOME, indices: encode(SMALL_GENOME), seed: 7, workDir },
    ]);
    const deadline = Date.now() + 90_000;
    while (savedEpoch(workDir) < 2) {
      if (Date.now() > deadline) throw new Error('the training task never checkpointed its second epoch');
      await sleep(100);
    }
    const slurm = new SlurmCommands(null);
    const row = (await slurm.squeue(jobName)).find((r) => r.state === 'RUNNING');
    if (row === undefined) throw new Error('the training task is not running after its second epoch');
    const pids = execFileSync('scontrol', ['listpids', row.jobId], { encoding: 'utf8' })
      .split('\n')
      .slice(1)
      .map((l) => Number(l.trim().split(/\s+/)[0]))
      .filter((pid) => Number.isInteger(pid) && pid > 0);
    for (const pid of pids) process.kill(pid, 'SIGSTOP');
    const frozenAfter = savedEpoch(workDir);

    const end = Date.now() + 180_000;
    let results: TaskResult[] = [];
    while (results.length === 0) {
      if (Date.now() > end) throw new Error('the training task never finished after its time limit');
      await executor.waitForResults(5_000);
      results = await executor.collect();
    }
    return {
      result: results[0] as TaskResult,
      file: JSON.parse(readFileSync(join(workDir, 'result.json'), 'utf8')) as TaskResultFile,
      logs: runLogs(stateDir, 'trained').map((path) => readFileSync(path, 'utf8')),
      workDir,
      frozenAfter,
    };
  } finally {
    await executor.close();
  }
}
