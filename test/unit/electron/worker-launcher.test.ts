// The training-worker launcher of the desktop app, with a stand-in for Electron's utilityProcess (the
// Electron binary is absent here): chosen only where utilityProcess exists, and a utility process speaks
// the same worker protocol as a forked one, so trainInWorker turns its messages, crash and kill into the
// same candidate results.
import { EventEmitter } from 'node:events';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { HostMessage } from '../../../core/train/protocol.ts';
import {
  chooseWorkerLauncher,
  utilityProcessLauncher,
  type UtilityChild,
  type UtilityProcessModule,
} from '../../../electron/worker-launcher.ts';

class FakeChild extends EventEmitter implements UtilityChild {
  readonly pid = 4242;
  readonly stdout = new PassThrough();
  readonly stderr = new PassThrough();
  received: unknown[] = [];
  killed = 0;
  postMessage(message: unknown): void {
    this.received.push(message);
  }
  kill(): boolean {
    this.killed++;
    this.emit('exit', 15);
    return true;
  }
}

function fakeUtility() {
  const forks: { path: string; options: unknown; child: FakeChild }[] = [];
  const utility: UtilityProcessModule = {
    fork(path, _args, options) {
      const child = new FakeChild();
      forks.push({ path, options, child });
      return child;
    },
  };
  return { utility, forks };
}

describe('the training-worker launcher', () => {
  it('uses utility processes where Electron offers them and the default fork elsewhere', () => {
    const { utility, forks } = fakeUtility();
    expect(chooseWorkerLauncher(undefined, '/app/training-worker.mjs')).toBeUndefined();
    expect(chooseWorkerLauncher({}, '/app/training-worker.mjs')).toBeUndefined();
    const launch = chooseWorkerLauncher({ utilityProcess: utility }, '/app/training-worker.mjs');
    expect(launch).toBeTypeOf('function');
    launch?.();
    expect(forks).toHaveLength(1);
    expect(forks[0]?.path).toBe('/app/training-worker.mjs');
    expect(forks[0]?.options).toMatchObject({ stdio: 'pipe' });
  });

  it('relays messages both ways, keeps the output in the log, and reports the exit once', async () => {
    const { utility, forks } = fakeUtility();
    const log = join(mkdtempSync(join(tmpdir(), 'emonas-launcher-')), 'worker.log');
    const handle = utilityProcessLauncher(utility, '/w.mjs')(log);
    const child = forks[0]?.child as FakeChild;
    expect(handle.pid).toBe(4242);

    const job = { type: 'cancel' } satisfies HostMessage;
    handle.send(job);
    expect(child.received).toEqual([job]);

    const messages: unknown[] = [];
    handle.onMessage((m) => messages.push(m));
    child.emit('message', { type: 'error', error: { code: 'internal', message: 'x' } });
    expect(messages).toEqual([{ type: 'error', error: { code: 'internal', message: 'x' } }]);

    const stderr: string[] = [];
    handle.onStderr((t) => stderr.push(t));
    child.stdout.write('hello\n');
    child.stderr.write('FATAL ERROR: Reached heap limit\n');
    expect(stderr.join('')).toContain('Reached heap limit');

    const exits: [number | null, string | null][] = [];
    handle.onExit((code, signal) => exits.push([code, signal]));
    child.emit('exit', 134);
    child.emit('exit', 134);
    expect(exits).toEqual([[134, null]]);
    // After the exit nothing more is sent, and a kill is not attempted on a dead process.
    handle.send(job);
    handle.kill();
    expect(child.received).toHaveLength(1);
    expect(child.killed).toBe(0);
    await new Promise((resolve) => setTimeout(resolve, 50));
    const written = readFileSync(log, 'utf8');
    expect(written).toContain('hello');
    expect(written).toContain('Reached heap limit');
  });

  it('kills the utility process on cancel', () => {
    const { utility, forks } = fakeUtility();
    const handle = utilityProcessLauncher(utility, '/w.mjs')();
    const exits: (number | null)[] = [];
    handle.onExit((code) => exits.push(code));
    handle.kill();
    expect(forks[0]?.child.killed).toBe(1);
    expect(exits).toEqual([15]);
  });
});
