// Runs in: a test process. The Slurm executor against a fake sbatch/squeue/scancel/scontrol (fake-slurm.ts):
// what it submits, how it reads the queue, and every way Slurm can end a task: requeued, duplicated, timed
// out, failed, out of memory, vanished, refused, unreachable; and a coordinator that died between sbatch and
// noting the job.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { EmonasError } from '../../../core/base/errors.ts';
import type { SlurmConfig } from '../../../core/executors/slurm/config.ts';
import { createSlurmExecutor, formulaEvaluatorSpec } from '../../../core/executors/slurm/create.ts';
import { EMONAS_ENTRY } from '../../../core/executors/slurm/job-script.ts';
import type { SlurmExecutor } from '../../../core/executors/slurm/slurm-executor.ts';
import {
  fingerprintOf,
  writeFileAtomic,
  type TaskResultFile,
  type TaskSpec,
} from '../../../core/executors/slurm/worker-files.ts';
import type { Executor, TaskResult } from '../../../core/executors/executor.ts';
import { DEFAULT_FORMULA } from '../../../core/search/formula-problem.ts';
import type { EvaluationOutcome } from '../../../core/search/protocol.ts';
import { tempDirs } from '../../fixtures/temp-dir.ts';
import { probeTask } from '../executors/contract.ts';
import { FakeSlurm } from './fake-slurm.ts';
import { testConfig } from './availability.ts';

const temp = tempDirs('slurm-unit');
const EVALUATOR = formulaEvaluatorSpec(DEFAULT_FORMULA);
const open: SlurmExecutor[] = [];
afterAll(async () => {
  for (const executor of open) await executor.detach();
  temp.cleanup();
});

function harness(overrides: Partial<SlurmConfig> = {}) {
  const dir = temp.make();
  const fake = new FakeSlurm(dir);
  const stateDir = join(dir, 'run', 'slurm');
  const logs: string[] = [];
  const make = (): SlurmExecutor => {
    const executor = createSlurmExecutor(
      { ...testConfig({ pollSeconds: 0.05, maxRetries: 1 }), slurmBin: fake.bin, ...overrides },
      { stateDir, jobName: 'emonas-unit', evaluator: EVALUATOR, log: (line) => logs.push(line) },
    );
    open.push(executor);
    return executor;
  };
  /** The candidate file of array task `index` of the n-th sbatch call (0-based). */
  const spec = (call: number, index: number): TaskSpec =>
    JSON.parse(
      readFileSync(join(dirname(fake.submitted()[call] as string), `${index}.json`), 'utf8'),
    ) as TaskSpec;
  return { fake, stateDir, logs, make, spec };
}

function workerResult(spec: TaskSpec, outcome: EvaluationOutcome, slurmJob: string | null = null): void {
  const file: TaskResultFile = {
    format: 'emonas-slurm-result',
    version: 1,
    id: spec.id,
    fingerprint: spec.fingerprint,
    outcome,
    seconds: 12,
    resumedFrom: null,
    writtenBy: 'worker',
    slurmJob,
    finishedAt: new Date().toISOString(),
  };
  writeFileAtomic(spec.resultPath, JSON.stringify(file));
}

async function until<T>(
  what: string,
  probe: () => T | undefined | Promise<T | undefined>,
  ms = 5000,
): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await sleep(20);
  }
}

async function collectOne(executor: Executor, id: string): Promise<TaskResult> {
  const seen: TaskResult[] = [];
  return until(`${id} is collected`, async () => {
    seen.push(...(await executor.collect()));
    return seen.find((r) => r.id === id);
  });
}

async function stateOf(executor: Executor, id: string): Promise<string | undefined> {
  return (await executor.poll()).find((s) => s.id === id)?.state;
}

describe('Slurm executor against a fake Slurm', () => {
  it('submits a batch as one job array with the configured resources, and takes the result file as the result', async () => {
    const h = harness({
      partition: 'gpu',
      account: 'lab',
      qos: 'normal',
      timeLimitMinutes: 30,
      gpusPerTask: 1,
      gpuType: 'a100',
      cpusPerTask: 6,
      memoryGB: 32,
      extraDirectives: ['--constraint=ib'],
      maxConcurrent: 3,
      warningSeconds: 120,
      prologue: ['module load cuda/12.2'],
      node: '/opt/node/bin/node',
    });
    const executor = h.make();
    const handles = await executor.submit(['a', 'b', 'c', 'd'].map((id) => probeTask(id)));
    expect(handles.map((x) => x.ref)).toEqual(['100_0', '100_1', '100_2', '100_3']);
    expect(h.fake.submitted()).toHaveLength(1);
    const script = h.fake.script(100);
    const batchDir = dirname(h.fake.submitted()[0] as string);
    for (const line of [
      '#SBATCH --job-name=emonas-unit',
      '#SBATCH --array=0-3%3',
      `#SBATCH --output="${join(h.stateDir, 'logs')}/%A_%a.log"`,
      '#SBATCH --open-mode=append',
      '#SBATCH --requeue',
      '#SBATCH --time=30',
      '#SBATCH --cpus-per-task=6',
      '#SBATCH --gres=gpu:a100:1',
      '#SBATCH --mem=32768M',
      '#SBATCH --partition=gpu',
      '#SBATCH --account=lab',
      '#SBATCH --qos=normal',
      '#SBATCH --signal=B:USR1@120',
      '#SBATCH --constraint=ib',
      'module load cuda/12.2',
      `exec '/opt/node/bin/node' '${EMONAS_ENTRY}' worker --candidate '${batchDir}/'"\${SLURM_ARRAY_TASK_ID}.json"`,
    ]) {
      expect(script.split('\n')).toContain(line);
    }
    expect(script).toMatch(/^#SBATCH --comment=\S+$/m);
    execFileSync('bash', ['-n', h.fake.submitted()[0] as string]);
    const specs = [0, 1, 2, 3].map((i) => h.spec(0, i));
    expect(specs.map((s) => s.id)).toEqual(['a', 'b', 'c', 'd']);
    expect(specs[1]?.resultPath).toBe(join(h.stateDir, 'work', 'b', 'result.json'));

    h.fake.setQueue([
      { key: '100_0', state: 'RUNNING' },
      { key: '100_1', state: 'PENDING', reason: 'Resources' },
      { key: '100_2', state: 'PENDING', reason: 'Priority' },
      { key: '100_3', state: 'PENDING', reason: 'Priority' },
    ]);
    await until('a runs', async () => (await stateOf(executor, 'a')) === 'running');
    expect(await stateOf(executor, 'b')).toBe('queued');
    workerResult(specs[1] as TaskSpec, { status: 'completed', f1: 0.3, valLoss: 0.2 });
    const result = await collectOne(executor, 'b');
    expect(result).toEqual({ id: 'b', outcome: { status: 'completed', f1: 0.3, valLoss: 0.2 }, seconds: 12 });
    expect((await executor.poll()).map((s) => s.id).sort()).toEqual(['a', 'c', 'd']);
    expect(h.fake.submitted()).toHaveLength(1);
  });

  it('splits a batch at the MaxArraySize that scontrol reports', async () => {
    const h = harness({ maxArraySize: null });
    h.fake.setMaxArraySize(2);
    const handles = await h.make().submit(['a', 'b', 'c', 'd', 'e'].map((id) => probeTask(id)));
    expect(handles.map((x) => x.ref)).toEqual(['100_0', '100_1', '101_0', '101_1', '102_0']);
    expect([100, 101, 102].map((id) => /--array=(\S+)/.exec(h.fake.script(id))?.[1])).toEqual([
      '0-1%2',
      '0-1%2',
      '0-0%2',
    ]);
  });

  it('leaves a requeued task waiting, and cancels a copy still running once another run wrote the result', async () => {
    const h = harness();
    const executor = h.make();
    await executor.submit([probeTask('a'), probeTask('b')]);
    h.fake.setQueue([
      { key: '100_0', state: 'PENDING', reason: 'BeginTime', restarts: 1 },
      { key: '100_1', state: 'RUNNING' },
    ]);
    await until('b runs', async () => (await stateOf(executor, 'b')) === 'running');
    await sleep(300);
    expect(await stateOf(executor, 'a')).toBe('queued');
    // b's result comes from another run of b (say an attempt Slurm had lost track of): 100_1 is a duplicate.
    workerResult(h.spec(0, 1), { status: 'completed', f1: 0.4 }, '99_0');
    expect((await collectOne(executor, 'b')).outcome).toEqual({ status: 'completed', f1: 0.4 });
    await until('the duplicate is cancelled', () => h.fake.cancels().includes('100_1'));
    // a's own run wrote its result and is exiting: it is left alone.
    h.fake.setQueue([{ key: '100_0', state: 'COMPLETING' }]);
    workerResult(h.spec(0, 0), { status: 'completed', f1: 0.5 }, '100_0');
    expect((await collectOne(executor, 'a')).outcome).toEqual({ status: 'completed', f1: 0.5 });
    await sleep(200);
    expect(h.fake.cancels()).toEqual(['100_1']);
    expect(h.fake.submitted()).toHaveLength(1);
  });

  it('resubmits a task that ended without a result, then gives it up with the reason and the end of its log', async () => {
    const h = harness({ maxRetries: 1, timeLimitMinutes: 30 });
    const executor = h.make();
    await executor.submit([probeTask('a')]);
    h.fake.setQueue([{ key: '100_0', state: 'TIMEOUT', reason: 'TimeLimit', exit: 143 << 8 }]);
    await until('a is resubmitted', () => h.fake.submitted().length === 2);
    expect(h.spec(1, 0).fingerprint).toBe(h.spec(0, 0).fingerprint);
    expect(h.logs.join('\n')).toContain(
      'Slurm job 100_0 of candidate a reached its time limit of 30 minutes; submitting it again (attempt 2)',
    );
    writeFileSync(join(h.stateDir, 'logs', '101_0.log'), 'starting\nError: the GPU fell off the bus\n\n');
    h.fake.setQueue([
      { key: '100_0', state: 'TIMEOUT', reason: 'TimeLimit', exit: 143 << 8 },
      { key: '101_0', state: 'FAILED', reason: 'NonZeroExitCode', exit: 1 << 8 },
    ]);
    const result = await collectOne(executor, 'a');
    expect(result.outcome).toMatchObject({ status: 'failed', code: 'worker_crashed' });
    const reason = result.outcome.status === 'failed' ? result.outcome.reason : '';
    expect(reason).toContain('Slurm job 101_0 of candidate a ended with state FAILED (exit code 1)');
    expect(reason).toContain('after 2 runs; the candidate was given up');
    expect(reason).toContain('starting / Error: the GPU fell off the bus');
    const file = JSON.parse(readFileSync(h.spec(0, 0).resultPath, 'utf8')) as TaskResultFile;
    expect(file.writtenBy).toBe('coordinator');
    expect(h.fake.submitted()).toHaveLength(2);
  });

  it('gives a result that shared storage shows late one more poll before judging the task', async () => {
    const h = harness({ pollSeconds: 0.6 });
    const executor = h.make();
    await executor.submit([probeTask('a')]);
    h.fake.setQueue([{ key: '100_0', state: 'COMPLETED' }]);
    await until('Slurm was asked once', () => h.fake.squeueCalls() > 0);
    // The first look has seen the task ended without a result; the result turns up before the second.
    await sleep(150);
    workerResult(h.spec(0, 0), { status: 'completed', f1: 0.6 });
    expect((await collectOne(executor, 'a')).outcome).toEqual({ status: 'completed', f1: 0.6 });
    expect(h.fake.submitted()).toHaveLength(1);
  });

  it('gives a task up when sbatch keeps refusing to submit it again', async () => {
    const h = harness({ maxRetries: 2 });
    const executor = h.make();
    await executor.submit([probeTask('a')]);
    h.fake.failing('sbatch', 'sbatch: error: QOSMaxSubmitJobPerUserLimit');
    h.fake.setQueue([{ key: '100_0', state: 'NODE_FAIL', reason: 'NodeDown' }]);
    await until('a waits for another attempt', () => h.logs.some((l) => l.includes('Could not submit 1')));
    expect(await stateOf(executor, 'a')).toBe('queued');
    const result = await collectOne(executor, 'a');
    expect(result.outcome).toMatchObject({ status: 'failed', code: 'submit' });
    const reason = result.outcome.status === 'failed' ? result.outcome.reason : '';
    expect(reason).toContain('ended with NODE_FAIL: its node failed, and submitting it again failed');
    expect(reason).toContain('QOSMaxSubmitJobPerUserLimit');
  });

  it('fails a task that ran out of memory at once, without resubmitting it', async () => {
    const h = harness({ maxRetries: 3 });
    const executor = h.make();
    await executor.submit([probeTask('a')]);
    h.fake.setQueue([{ key: '100_0', state: 'OUT_OF_MEMORY', reason: 'OutOfMemory', exit: 9 }]);
    const result = await collectOne(executor, 'a');
    expect(result.outcome).toMatchObject({ status: 'failed', code: 'out_of_memory' });
    expect(h.fake.submitted()).toHaveLength(1);
  });

  it('resubmits a task that vanished from the queue, and one cancelled from outside', async () => {
    const h = harness({ maxRetries: 2 });
    const executor = h.make();
    await executor.submit([probeTask('a'), probeTask('b')]);
    h.fake.setQueue([{ key: '100_1', state: 'CANCELLED', reason: 'None', exit: 15 }]);
    await until('both are resubmitted', () => h.fake.submitted().length >= 2);
    const log = h.logs.join('\n');
    expect(log).toContain(
      'Slurm job 100_0 of candidate a disappeared from the queue without writing its result',
    );
    expect(log).toContain('Slurm job 100_1 of candidate b was cancelled outside Emonas Studio');
    expect(h.fake.submitted()).toHaveLength(2);
    expect([h.spec(1, 0).id, h.spec(1, 1).id].sort()).toEqual(['a', 'b']);
    expect(await executor.poll()).toHaveLength(2);
  });

  it('finds a batch by its comment when the coordinator died before noting the job id, and submits nothing twice', async () => {
    const h = harness();
    const first = h.make();
    await first.submit([probeTask('a'), probeTask('b')]);
    await first.detach();
    // The coordinator died between sbatch's answer and writing it down.
    const ledger = join(h.stateDir, 'ledger.jsonl');
    const lines = readFileSync(ledger, 'utf8').split('\n').filter(Boolean);
    writeFileSync(ledger, lines.filter((l) => !l.includes('"t":"submitted"')).join('\n') + '\n');
    const batch = (JSON.parse(lines[0] as string) as { batch: string }).batch;
    h.fake.setQueue([
      { key: '100_0', state: 'RUNNING', comment: batch },
      { key: '100_1', state: 'PENDING', reason: 'Resources', comment: batch },
    ]);
    const second = h.make();
    const handles = await second.submit([probeTask('a'), probeTask('b')]);
    expect(handles.map((x) => x.ref)).toEqual(['100_0', '100_1']);
    expect(h.fake.submitted()).toHaveLength(1);
    expect(readFileSync(ledger, 'utf8')).toContain(`"t":"submitted","batch":"${batch}","jobId":"100"`);
    expect(await stateOf(second, 'a')).toBe('running');
    await second.detach();

    // Had sbatch never reached Slurm, the batch is not in the queue and is submitted now.
    const h2 = harness();
    await h2
      .make()
      .submit([probeTask('c')])
      .then(async () => {
        const ledger2 = join(h2.stateDir, 'ledger.jsonl');
        const kept = readFileSync(ledger2, 'utf8')
          .split('\n')
          .filter((l) => l && !l.includes('"t":"submitted"'));
        writeFileSync(ledger2, kept.join('\n') + '\n');
      });
    h2.fake.setQueue([]);
    expect((await h2.make().submit([probeTask('c')])).map((x) => x.ref)).toEqual(['101_0']);
  });

  it('reattaches to the tasks its ledger knows, but not to those a coordinator cancelled', async () => {
    const h = harness();
    const first = h.make();
    const handles = await first.submit(['a', 'b', 'c'].map((id) => probeTask(id)));
    await first.cancel(['b']);
    expect(h.fake.cancels()).toEqual(['100_1']);
    expect((await first.collect()).map((r) => [r.id, r.outcome.status])).toEqual([['b', 'failed']]);
    await first.detach();
    h.fake.setQueue([
      { key: '100_0', state: 'RUNNING' },
      { key: '100_2', state: 'COMPLETED' },
    ]);
    workerResult(h.spec(0, 2), { status: 'completed', f1: 0.25 });
    const second = h.make();
    const back = await second.reattach([...handles, { id: 'stranger', executor: 'slurm', ref: '7_0' }]);
    expect(back.sort()).toEqual(['a', 'c']);
    expect((await second.collect()).map((r) => r.id)).toEqual(['c']);
    expect(await stateOf(second, 'a')).toBe('running');
    expect(h.fake.submitted()).toHaveLength(1);
  });

  it('adopts a result an earlier run of the same evaluation left, instead of submitting', async () => {
    const h = harness();
    const task = probeTask('a');
    const fingerprint = fingerprintOf({ ...task, evaluator: EVALUATOR });
    const resultPath = join(h.stateDir, 'work', 'a', 'result.json');
    execFileSync('mkdir', ['-p', dirname(resultPath)]);
    workerResult({ id: 'a', fingerprint, resultPath } as TaskSpec, { status: 'completed', f1: 0.2 });
    const executor = h.make();
    await executor.submit([task]);
    expect(await executor.collect()).toEqual([
      { id: 'a', outcome: { status: 'completed', f1: 0.2 }, seconds: 12 },
    ]);
    expect(h.fake.submitted()).toHaveLength(0);
    // Another evaluation of the same candidate id (other payload) is not fooled by it.
    await executor.submit([{ ...task, payload: { other: true } }]);
    expect(h.fake.submitted()).toHaveLength(1);
  });

  it('turns a refusal by sbatch into an error that says what Slurm said and where the script is', async () => {
    const h = harness();
    h.fake.failing(
      'sbatch',
      'sbatch: error: Batch job submission failed: Invalid account or account/partition combination specified',
    );
    const err = await h
      .make()
      .submit([probeTask('a')])
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EmonasError);
    expect((err as EmonasError).code).toBe('bad_request');
    expect((err as EmonasError).message).toContain(
      'Invalid account or account/partition combination specified',
    );
    expect((err as EmonasError).message).toMatch(/job script is \S+job\.sbatch/);
  });

  it('keeps tasks pending while squeue fails, and carries on when Slurm answers again', async () => {
    const h = harness();
    const executor = h.make();
    await executor.submit([probeTask('a')]);
    h.fake.failing('squeue', 'slurm_load_jobs error: Unable to contact slurm controller (connect failure)');
    await until('a failed query is logged', () =>
      h.logs.some((l) => l.includes('Unable to contact slurm controller')),
    );
    await sleep(200);
    expect(await stateOf(executor, 'a')).toBe('queued');
    expect(h.fake.submitted()).toHaveLength(1);
    h.fake.failing('squeue', null);
    h.fake.setQueue([{ key: '100_0', state: 'COMPLETED' }]);
    workerResult(h.spec(0, 0), { status: 'completed', f1: 0.5 });
    expect((await collectOne(executor, 'a')).outcome).toEqual({ status: 'completed', f1: 0.5 });
  });

  it('cancels what is pending on close, and refuses work afterwards', async () => {
    const h = harness();
    const executor = h.make();
    await executor.submit([probeTask('a'), probeTask('b')]);
    await executor.close();
    expect(h.fake.cancels()).toEqual(['100_0 100_1']);
    expect(existsSync(join(h.stateDir, 'executor.json'))).toBe(true);
    await expect(executor.submit([probeTask('c')])).rejects.toSatisfy(
      (e: unknown) => e instanceof EmonasError && e.code === 'conflict',
    );
  });
});
