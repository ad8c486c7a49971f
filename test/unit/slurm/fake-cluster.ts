// Runs in: a test process. A fake one-node Slurm that really runs the jobs it is given (fake-cluster-entry.mjs
// does the work): sbatch, squeue, scancel and scontrol in a folder to hand to the executor as slurmBin. Unlike
// fake-slurm.ts, whose queue the test writes, here the job scripts run `emonas worker` on this machine, so
// whatever runs on a real cluster can also run on every machine, without its time limits and requeues.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { running } from '../../fixtures/processes.ts';
import { writeFakeCommands } from './fake-slurm.ts';

const ENTRY = fileURLToPath(new URL('./fake-cluster-entry.mjs', import.meta.url));

export class FakeCluster {
  readonly bin: string;
  private readonly state: string;

  constructor(dir: string) {
    ({ bin: this.bin, state: this.state } = writeFakeCommands(dir, (state) =>
      Object.fromEntries(
        ['sbatch', 'squeue', 'scancel', 'scontrol'].map((name) => [
          name,
          `exec '${process.execPath}' '${ENTRY}' '${state}' ${name} "$@"`,
        ]),
      ),
    ));
  }

  /** Job ids sbatch handed out, in order. */
  jobs(): number[] {
    const dir = join(this.state, 'jobs');
    if (!existsSync(dir)) return [];
    return readdirSync(dir)
      .filter((name) => /^\d+$/.test(name))
      .map(Number)
      .sort((a, b) => a - b);
  }

  /**
   * Cancels every job, as `scancel` would, and waits for their schedulers to finish; a scheduler still
   * running after `ms` is killed with its tasks, so no process outlives the test file.
   */
  async shutdown(ms = 10_000): Promise<void> {
    const jobs = this.jobs();
    if (jobs.length > 0) {
      const r = spawnSync(join(this.bin, 'scancel'), jobs.map(String), { encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`the fake scancel failed: ${r.stderr}`);
    }
    const schedulers = jobs
      .map((id) => Number(readFileSync(join(this.state, 'jobs', String(id), 'scheduler.pid'), 'utf8')))
      .filter((pid) => Number.isInteger(pid) && pid > 0);
    const deadline = Date.now() + ms;
    while (schedulers.some(running) && Date.now() < deadline) await sleep(50);
    for (const id of jobs) {
      const dir = join(this.state, 'jobs', String(id));
      for (const file of readdirSync(dir).filter((f) => /^\d+\.json$/.test(f))) {
        const task = JSON.parse(readFileSync(join(dir, file), 'utf8')) as { state: string; pid?: number };
        if (task.state === 'RUNNING' && task.pid !== undefined) killGroup(task.pid);
      }
    }
    for (const pid of schedulers) if (running(pid)) process.kill(pid, 'SIGKILL');
  }
}

function killGroup(pid: number): void {
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // Gone already.
  }
}
