// The worker launchers of the desktop app, with a stand-in for Electron's utilityProcess (the Electron
// binary is absent here): chosen only where utilityProcess exists, and a utility process speaks the same
// worker protocol as a forked one, so trainInWorker turns its messages, crash and kill into the same
// candidate results, and predictInWorker its reports and crash into the same predictions and errors.
import { EventEmitter } from 'node:events';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { EmonasError } from '../../../core/base/errors.ts';
import { predictInWorker } from '../../../core/service/review-predictions.ts';
import type { PredictionJob, PredictionReport } from '../../../core/service/review-worker-serve.ts';
import type { HostMessage } from '../../../core/train/protocol.ts';
import {
  chooseWorkerLaunchers,
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

const ENTRIES = { training: '/app/training-worker.mjs', prediction: '/app/prediction-worker.mjs' };

describe('the worker launchers', () => {
  it('use utility processes where Electron offers them and the default fork elsewhere', () => {
    const { utility, forks } = fakeUtility();
    expect(chooseWorkerLaunchers(undefined, ENTRIES)).toBeUndefined();
    expect(chooseWorkerLaunchers({}, ENTRIES)).toBeUndefined();
    const launchers = chooseWorkerLaunchers({ utilityProcess: utility }, ENTRIES);
    expect(launchers).toBeDefined();
    launchers?.launchWorker();
    launchers?.launchPrediction(join(mkdtempSync(join(tmpdir(), 'emonas-launcher-')), 'prediction.log'));
    expect(forks.map((f) => f.path)).toEqual([ENTRIES.training, ENTRIES.prediction]);
    expect(forks[0]?.options).toMatchObject({ stdio: 'pipe', serviceName: 'Emonas training worker' });
    expect(forks[1]?.options).toMatchObject({ stdio: 'pipe', serviceName: 'Emonas prediction worker' });
  });

  it('relays messages both ways, keeps the output in the log, and reports the exit once', async () => {
    const { utility, forks } = fakeUtility();
    const log = join(mkdtempSync(join(tmpdir(), 'emonas-launcher-')), 'worker.log');
    const handle = utilityProcessLauncher(utility, '/w.mjs', 'Emonas training worker')(log);
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
    const handle = utilityProcessLauncher(utility, '/w.mjs', 'Emonas training worker')();
    const exits: (number | null)[] = [];
    handle.onExit((code) => exits.push(code));
    handle.kill();
    expect(forks[0]?.child.killed).toBe(1);
    expect(exits).toEqual([15]);
  });

  it('runs a prediction job in a utility process: the job sent, each image reported, done at the end', async () => {
    const { utility, forks } = fakeUtility();
    const launch = chooseWorkerLaunchers({ utilityProcess: utility }, ENTRIES)?.launchPrediction;
    expect(launch).toBeDefined();
    const log = join(mkdtempSync(join(tmpdir(), 'emonas-launcher-')), 'prediction-worker.log');
    const job: PredictionJob = {
      modelDir: '/runs/r/final',
      images: [
        { caseId: 'a', input: '/scans/a.nii.gz', output: '/out/a.nii.gz' },
        { caseId: 'b', input: '/scans/b.nii.gz', output: '/out/b.nii.gz' },
      ],
    };
    const reports: PredictionReport[] = [];
    const predicted = predictInWorker(job, log, (report) => reports.push(report), launch);
    expect(forks.map((f) => f.path)).toEqual([ENTRIES.prediction]);
    const child = forks[0]?.child as FakeChild;
    expect(child.received).toEqual([job]);
    const failed: PredictionReport = {
      type: 'failed',
      caseId: 'b',
      error: { code: 'unreadable_file', message: 'b is damaged' },
    };
    child.emit('message', { type: 'predicted', caseId: 'a', seconds: 1.5 });
    child.emit('message', failed);
    child.emit('message', { type: 'done', backend: 'emonas-cpu' });
    child.emit('exit', 0);
    await predicted;
    expect(reports).toEqual([{ type: 'predicted', caseId: 'a', seconds: 1.5 }, failed]);
  });

  it('explains a utility prediction worker that dies with its last words and keeps its output in the log', async () => {
    const { utility, forks } = fakeUtility();
    const launch = chooseWorkerLaunchers({ utilityProcess: utility }, ENTRIES)?.launchPrediction;
    const log = join(mkdtempSync(join(tmpdir(), 'emonas-launcher-')), 'prediction-worker.log');
    const job: PredictionJob = {
      modelDir: '/runs/r/final',
      images: [{ caseId: 'a', input: '/scans/a.nii.gz', output: '/out/a.nii.gz' }],
    };
    const predicted = predictInWorker(job, log, () => undefined, launch);
    const child = forks[0]?.child as FakeChild;
    expect(child).toBeDefined();
    child.stdout.write('loading the model\n');
    child.stderr.write('FATAL ERROR: Reached heap limit\n');
    child.emit('exit', 134);
    const error = await predicted.then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(error).toBeInstanceOf(EmonasError);
    expect(error).toMatchObject({ code: 'worker_crashed', file: log });
    expect((error as EmonasError).message).toContain('exited with code 134');
    expect((error as EmonasError).message).toContain('Reached heap limit');
    await new Promise((resolve) => setTimeout(resolve, 50));
    const written = readFileSync(log, 'utf8');
    expect(written).toContain('loading the model');
    expect(written).toContain('Reached heap limit');
  });
});
