// A process that watches its parent (core/base/parent-watch.ts) ends soon after the parent is killed:
// by its own hand when its event loop is free, even without an IPC channel to lose; killed by the
// watching thread when its main thread never comes back.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { afterAll, expect, it } from 'vitest';
import { running, until } from '../../fixtures/processes.ts';
import { tempDirs } from '../../fixtures/temp-dir.ts';

const CHILD = fileURLToPath(new URL('./parent-watch-child.ts', import.meta.url));
const temp = tempDirs('parent-watch');
afterAll(() => temp.cleanup());

/** Starts the middle process and its watched child; resolves once the child's watch is in place. */
async function startPair(mode: 'middle-idle' | 'middle-busy', marker: string) {
  const middle = spawn(process.execPath, ['--import', 'tsx', CHILD, mode, marker], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const ready = await until(() => existsSync(`${marker}.ready`), 30_000);
  expect(ready, 'the watched process never started').toBe(true);
  const pid = Number(readFileSync(`${marker}.ready`, 'utf8'));
  return { middle, pid };
}

it('calls onLost when the parent dies, with no IPC channel to notice it by', async () => {
  const marker = join(temp.make(), 'lost');
  const { middle, pid } = await startPair('middle-idle', marker);
  await sleep(300);
  expect(running(pid)).toBe(true);
  middle.kill('SIGKILL');
  expect(await until(() => !running(pid), 5000), `pid ${pid} outlived its parent`).toBe(true);
  expect(readFileSync(marker, 'utf8')).toBe('parent lost');
});

it('kills a process whose main thread is held when its parent dies', async () => {
  const marker = join(temp.make(), 'lost');
  const { middle, pid } = await startPair('middle-busy', marker);
  await sleep(300);
  expect(running(pid)).toBe(true);
  middle.kill('SIGKILL');
  expect(await until(() => !running(pid), 6000), `pid ${pid} outlived its parent`).toBe(true);
  // Its main thread never ran again, so the thread's kill ended it, not onLost.
  expect(existsSync(marker)).toBe(false);
});
