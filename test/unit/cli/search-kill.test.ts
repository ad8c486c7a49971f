// Killing `emonas search` with SIGKILL while a candidate trains: its training worker is gone within 10
// seconds; `emonas resume` continues that candidate from its last epoch's checkpoint; and a worker that
// outlives its engine anyway (here frozen with SIGSTOP, so it cannot notice) is ended by the next resume
// before any candidate trains again, so no candidate folder ever has two writers.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { afterAll, expect, it } from 'vitest';
import { readJournal } from '../../../core/runs/journal.ts';
import { WORKERS_FILE } from '../../../core/runs/worker-registry.ts';
import { running, until } from '../../fixtures/processes.ts';
import { tempDirs } from '../../fixtures/temp-dir.ts';
import { tinySearchConfig } from '../../fixtures/tiny-search.ts';
import { writeSyntheticMsd } from '../train/synthetic.ts';

const EMONAS = fileURLToPath(new URL('../../../bin/emonas.mjs', import.meta.url));
const temp = tempDirs('search-kill');
const frozen: number[] = [];
afterAll(() => {
  for (const pid of frozen) if (running(pid)) process.kill(pid, 'SIGKILL');
  temp.cleanup();
});

/** The training workers the engine `parent` started (its children running core/train/worker-entry.ts). */
function trainingWorkers(parent: number): number[] {
  const pids: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === parent && readFileSync(`/proc/${name}/cmdline`, 'utf8').includes('worker-entry.ts')) {
        pids.push(Number(name));
      }
    } catch {
      // Ended while being looked at.
    }
  }
  return pids;
}

/** The emonas command under node itself (no npx layer), so its pid is the engine's. */
function emonas(args: string[], cache: string): { child: ChildProcess; done: Promise<number | null> } {
  const child = spawn(process.execPath, [EMONAS, ...args], {
    env: { ...process.env, EMONAS_CACHE_DIR: cache },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4000)));
  const done = new Promise<number | null>((resolve) =>
    child.on('exit', (code, signal) => {
      if (code !== 0 && signal === null) process.stderr.write(stderr);
      resolve(code);
    }),
  );
  return { child, done };
}

it(
  'leaves no training worker behind a killed search, and resumes the cut candidate from its checkpoint',
  { timeout: 300_000 },
  async () => {
    const dataset = temp.make();
    const cache = temp.make();
    await writeSyntheticMsd(dataset, 8, [16, 16, 16]);
    const config = join(temp.make(), 'search.json');
    writeFileSync(config, JSON.stringify(tinySearchConfig()));
    const run = join(temp.make(), 'run');
    const candidate = join(run, 'candidates', 'g0-c0');
    const checkpoint = join(candidate, 'training-checkpoint.bin');
    const workerLog = join(candidate, 'worker.log');
    const settings = ['--epochs', '6', '--steps-per-epoch', '3', '--batch', '1', '--patch', '16,16,16'];
    const split = ['--val-fraction', '0.25', '--test-fraction', '0'];

    // 1. SIGKILL the search once the first candidate has a checkpoint: its worker is gone within 10 s.
    const search = emonas(
      [
        'search',
        '--dataset',
        dataset,
        '--out',
        run,
        '--preset',
        'quick',
        '--config',
        config,
        ...settings,
        ...split,
      ],
      cache,
    );
    const enginePid = search.child.pid as number;
    expect(await until(() => existsSync(checkpoint), 120_000), 'no epoch of g0-c0 was checkpointed').toBe(
      true,
    );
    const workers = trainingWorkers(enginePid);
    expect(workers).toHaveLength(1);
    search.child.kill('SIGKILL');
    expect(
      await until(() => workers.every((pid) => !running(pid)), 10_000),
      'a training worker outlived the killed search by 10 s',
    ).toBe(true);
    await search.done;

    // 2. Resume: g0-c0 continues from its checkpoint. Freeze its new worker, then kill that engine too.
    const firstResume = emonas(['resume', run], cache);
    expect(
      await until(
        () => existsSync(workerLog) && readFileSync(workerLog, 'utf8').includes('Resumed after epoch'),
        120_000,
      ),
      'the first resume did not continue g0-c0 from its checkpoint',
    ).toBe(true);
    const [stuck] = trainingWorkers(firstResume.child.pid as number);
    expect(stuck).toBeDefined();
    process.kill(stuck as number, 'SIGSTOP');
    frozen.push(stuck as number);
    firstResume.child.kill('SIGKILL');
    await firstResume.done;
    // Longer than the parent watch takes: a frozen worker cannot end itself, so it is still there.
    await sleep(4000);
    expect(running(stuck as number)).toBe(true);
    const registry = JSON.parse(readFileSync(join(run, WORKERS_FILE), 'utf8'));
    expect(registry.workers.map((w: { pid: number; candidate: string }) => [w.pid, w.candidate])).toEqual([
      [stuck, 'g0-c0'],
    ]);

    // 3. The next resume ends the frozen worker before it starts one of its own, and finishes the run.
    const lastResume = emonas(['resume', run], cache);
    const resumePid = lastResume.child.pid as number;
    let stuckWhenTrainingStarted: boolean | null = null;
    const watching = (async () => {
      while (stuckWhenTrainingStarted === null && lastResume.child.exitCode === null) {
        if (trainingWorkers(resumePid).length > 0) stuckWhenTrainingStarted = running(stuck as number);
        await sleep(20);
      }
    })();
    expect(await lastResume.done).toBe(0);
    await watching;
    expect(stuckWhenTrainingStarted).toBe(false);
    expect(running(stuck as number)).toBe(false);
    expect(existsSync(join(run, WORKERS_FILE))).toBe(false);

    // g0-c0 was trained in three goes, each of the later two from the checkpoint the one before left.
    const resumedLines = readFileSync(workerLog, 'utf8').match(/Resumed after epoch [1-5],/g) ?? [];
    expect(resumedLines).toHaveLength(2);
    const log = readFileSync(join(candidate, 'training-log.csv'), 'utf8').trim().split('\n');
    expect(log.map((row) => row.split(',')[0])).toEqual(['epoch', '0', '1', '2', '3', '4', '5']);
    const result = JSON.parse(readFileSync(join(candidate, 'result.json'), 'utf8'));
    expect(result).toMatchObject({ status: 'completed', epochsRun: 6 });
    const { records } = readJournal(join(run, 'journal.jsonl'));
    expect(records.filter((r) => r.t === 'result' && r.id === 'g0-c0')).toHaveLength(1);
    expect(records.some((r) => r.t === 'finished')).toBe(true);
  },
);
