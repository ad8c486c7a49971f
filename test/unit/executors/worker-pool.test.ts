// The local worker pool: the executor contract with the probe evaluator in worker processes, and what only
// a pool of processes can show: a crashed process is a failed candidate with its reason, cancel kills
// the process, and the run's registry holds the live processes, an earlier owner's ended before any start.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { moduleLauncher } from '../../../core/executors/module-worker.ts';
import { WorkerPoolExecutor } from '../../../core/executors/worker-pool.ts';
import { WorkerRegistry } from '../../../core/runs/worker-registry.ts';
import { running } from '../../fixtures/processes.ts';
import { tempDirs } from '../../fixtures/temp-dir.ts';
import { collectAll, executorContract, probeTask } from './contract.ts';

const PROBE = fileURLToPath(new URL('./probe-evaluator.ts', import.meta.url));
const CRASH = fileURLToPath(new URL('./crash-evaluator.ts', import.meta.url));

// Each task starts a process (tsx and the module, about half a second here), so tasks overlap whatever
// their own delay; the timeout allows for a loaded machine.
executorContract('worker pool, two processes', {
  create: async () => new WorkerPoolExecutor(moduleLauncher(PROBE, 'probeEvaluate'), { slots: 2 }),
  delayMs: 100,
  timeoutMs: 60_000,
});

const temp = tempDirs('worker-pool');
afterAll(() => temp.cleanup());

async function pidOf(pool: WorkerPoolExecutor, id: string): Promise<number | undefined> {
  let pid: number | undefined;
  for (let i = 0; i < 200 && pid === undefined; i++) {
    pid = pool.processes()[id];
    if (pid === undefined) await sleep(20);
  }
  return pid;
}

describe('worker pool processes', () => {
  it('records a process that dies as a failed candidate with its reason, and goes on', async () => {
    const pool = new WorkerPoolExecutor(moduleLauncher(CRASH, 'crash'), { slots: 1 });
    try {
      await pool.submit([probeTask('dies'), probeTask('dies-too')]);
      const results = await collectAll(pool, ['dies', 'dies-too'], 60_000);
      expect(results.map((r) => r.id)).toEqual(['dies', 'dies-too']);
      for (const r of results) {
        expect(r.outcome).toMatchObject({ status: 'failed', code: 'worker_crashed' });
        expect(r.outcome.status === 'failed' && r.outcome.reason).toContain('exited with code 3');
        expect(r.outcome.status === 'failed' && r.outcome.reason).toContain(
          `segfault-like failure in ${r.id}`,
        );
      }
    } finally {
      await pool.close();
    }
  });

  it('kills the process of a cancelled candidate', async () => {
    const pool = new WorkerPoolExecutor(moduleLauncher(CRASH, 'forever'), { slots: 1 });
    try {
      await pool.submit([probeTask('stuck')]);
      const pid = await pidOf(pool, 'stuck');
      expect(pid).toBeGreaterThan(0);
      expect(running(pid as number)).toBe(true);
      await pool.cancel(['stuck']);
      const [result] = await pool.collect();
      expect(result).toMatchObject({ id: 'stuck', outcome: { status: 'failed', code: 'cancelled' } });
      for (let i = 0; i < 100 && running(pid as number); i++) await sleep(20);
      expect(running(pid as number)).toBe(false);
    } finally {
      await pool.close();
    }
  });

  it("keeps its live processes in the run registry, and ends an earlier owner's before starting one", async () => {
    const run = temp.make();
    // A process an earlier engine recorded for the same candidate and left running.
    const leftover = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], { stdio: 'ignore' });
    await once(leftover, 'spawn');
    new WorkerRegistry(run).started('stuck', leftover.pid as number);
    const registry = new WorkerRegistry(run);
    const pool = new WorkerPoolExecutor(moduleLauncher(CRASH, 'forever'), { slots: 1, registry });
    try {
      expect(running(leftover.pid as number)).toBe(true);
      await pool.submit([probeTask('stuck')]);
      expect(running(leftover.pid as number)).toBe(false);
      const pid = await pidOf(pool, 'stuck');
      expect(pid).toBeGreaterThan(0);
      expect(registry.entries().map((e) => [e.pid, e.candidate])).toEqual([[pid, 'stuck']]);
      await pool.cancel(['stuck']);
      for (let i = 0; i < 200 && registry.entries().length > 0; i++) await sleep(20);
      expect(registry.entries()).toEqual([]);
    } finally {
      leftover.kill('SIGKILL');
      await pool.close();
    }
  });
});
