// The run's worker registry (core/runs/worker-registry.ts): a new owner of a run ends the workers an
// earlier engine recorded and left running, keeps its own, and never kills a process that merely got a
// recorded pid since (another start time).
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, expect, it } from 'vitest';
import { WORKERS_FILE, WorkerRegistry } from '../../../core/runs/worker-registry.ts';
import { running } from '../../fixtures/processes.ts';
import { tempDirs } from '../../fixtures/temp-dir.ts';

const temp = tempDirs('worker-registry');
const started: ChildProcess[] = [];
afterAll(() => {
  for (const child of started) child.kill('SIGKILL');
  temp.cleanup();
});

/** A process that would run for a minute: a stand-in for a training worker. */
async function sleeper(): Promise<number> {
  const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], { stdio: 'ignore' });
  started.push(child);
  await new Promise((resolve) => child.once('spawn', resolve));
  return child.pid as number;
}

it('ends the workers an earlier owner recorded, and forgets them', async () => {
  const run = temp.make();
  const pid = await sleeper();
  new WorkerRegistry(run).started('g0-c1', pid);
  const recorded = JSON.parse(readFileSync(join(run, WORKERS_FILE), 'utf8'));
  expect(recorded.workers).toEqual([
    expect.objectContaining({ pid, candidate: 'g0-c1', engine: process.pid, startTime: expect.any(String) }),
  ]);

  const next = new WorkerRegistry(run);
  await next.endOthers();
  expect(running(pid)).toBe(false);
  expect(existsSync(join(run, WORKERS_FILE))).toBe(false);
});

it('keeps its own workers, and removes each one that ended', async () => {
  const run = temp.make();
  const registry = new WorkerRegistry(run);
  const [a, b] = [await sleeper(), await sleeper()];
  registry.started('g0-c0', a);
  registry.started('g0-c1', b);
  await registry.endOthers();
  expect(running(a) && running(b)).toBe(true);
  registry.ended('g0-c0', a);
  expect(registry.entries().map((e) => e.pid)).toEqual([b]);
  registry.ended('g0-c1', b);
  expect(existsSync(join(run, WORKERS_FILE))).toBe(false);
});

it('leaves alone a process that got a recorded pid since, and a pid nobody has', async () => {
  const run = temp.make();
  const pid = await sleeper();
  new WorkerRegistry(run).started('g0-c2', pid);
  const file = join(run, WORKERS_FILE);
  const recorded = JSON.parse(readFileSync(file, 'utf8'));
  // The same pid, started at another time: the recorded worker ended, this is someone else's process.
  recorded.workers[0].startTime = String(Number(recorded.workers[0].startTime) - 1);
  // A worker that ended without the engine noting it (the engine was killed first).
  const gone = spawn(process.execPath, ['-e', '0'], { stdio: 'ignore' });
  await new Promise((resolve) => gone.once('exit', resolve));
  recorded.workers.push({ ...recorded.workers[0], pid: gone.pid, candidate: 'g0-c3' });
  writeFileSync(file, JSON.stringify(recorded));

  await new WorkerRegistry(run).endOthers();
  await sleep(100);
  expect(running(pid)).toBe(true);
  expect(existsSync(file)).toBe(false);
});
