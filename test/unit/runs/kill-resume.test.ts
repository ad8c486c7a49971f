import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { RandomStream } from '../../../core/base/random.ts';
import { front } from '../../../core/runs/run-summary.ts';
import { resume, startSearch } from '../../../core/service/search.ts';
import { RUN_CONFIG, decisionLines, resultIds, tempRoot } from './fixtures.ts';

const CHILD = fileURLToPath(new URL('./kill-child.ts', import.meta.url));
const CONFIG = { ...RUN_CONFIG, generations: 10 };
/** Each evaluation takes 20 ms, so a kill can land inside one. */
const PROBLEM = { kind: 'formula', delayMs: 20 };
const MAX_KILLS = 20;
/** Candidates trained before the exploitation phase: 6 initial + 3 learning generations of 6. */
const BEFORE_EXPLOITATION = 24;

const children = new Set<ChildProcess>();
afterAll(() => {
  for (const child of children) child.kill('SIGKILL');
});

interface KillPlan {
  /** Results to let the child journal before the kill. */
  results: number;
  /** Then milliseconds more, to land inside an evaluation, a journal write or a replay. */
  delayMs: number;
}

/** Runs the child and kills it as planned (null: lets it finish). Resolves with its stdout. */
function session(runDir: string, plan: KillPlan | null): Promise<{ out: string; killed: boolean }> {
  return new Promise((resolve, reject) => {
    const args = ['--import', 'tsx', CHILD, runDir, JSON.stringify(CONFIG), JSON.stringify(PROBLEM)];
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    children.add(child);
    let out = '';
    let err = '';
    let armed = false;
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const completed = out.split('\n').filter((line) => line === 'completed').length;
      if (plan !== null && !armed && out.startsWith('ready\n') && completed >= plan.results) {
        armed = true;
        setTimeout(() => child.kill('SIGKILL'), plan.delayMs);
      }
    });
    child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      children.delete(child);
      if (signal === 'SIGKILL' || code === 0) resolve({ out, killed: signal === 'SIGKILL' });
      else reject(new Error(`search child exited with ${code}: ${err}`));
    });
  });
}

describe('a search killed at random moments', () => {
  it('resumes into exactly the run that was never interrupted', async () => {
    const root = tempRoot();
    const reference = join(root, 'reference');
    await startSearch({ runDir: reference, config: CONFIG, problem: { kind: 'formula' } });

    const runDir = join(root, 'killed');
    const rng = RandomStream.fromSeed(2024, 'kill-times');
    const progressAtKill: number[] = [];
    let finished = false;
    while (!finished && progressAtKill.length < MAX_KILLS) {
      const { out, killed } = await session(runDir, { results: rng.int(5), delayMs: rng.int(40) });
      finished = out.includes('finished');
      if (killed && !finished)
        progressAtKill.push(existsSync(join(runDir, 'journal.jsonl')) ? resultIds(runDir).length : 0);
    }
    if (!finished) await resume({ runDir });
    // Killed often, at moments spread over the run, the exploitation phase included.
    expect(progressAtKill.length).toBeGreaterThanOrEqual(10);
    expect(new Set(progressAtKill).size).toBeGreaterThanOrEqual(5);
    expect(Math.max(...progressAtKill)).toBeGreaterThan(BEFORE_EXPLOITATION);

    expect(decisionLines(runDir)).toEqual(decisionLines(reference));
    expect(front({ runDir })).toEqual(front({ runDir: reference }));
    const ids = resultIds(runDir);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.sort()).toEqual(resultIds(reference).sort());
  }, 120_000);
});
