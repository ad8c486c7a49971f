// Runs in: the vitest worker. A search its wall-clock budget stopped (the demo's) is listed by a new engine
// and by `emonas runs`, reading the run folder alone, as stopped at its budget rather than paused; a search
// the user stopped is still paused; and resuming the budget-stopped one runs it to its end, finished. One
// cancelled in the app instead is listed by `emonas runs` as cancelled, and `emonas resume` refuses it.
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { resumeCommand } from '../../../core/cli/cmd-resume.ts';
import { runStatus, runsCommand } from '../../../core/cli/cmd-runs.ts';
import { runState } from '../../../core/report/run-report.ts';
import { RUN_FILES } from '../../../core/runs/run-folder.ts';
import { createEngine } from '../../../core/service/index.ts';
import { runsIn } from '../../../core/service/runs.ts';
import { searchWithinBudget } from '../../../core/service/search-budget.ts';
import { startSearch } from '../../../core/service/search.ts';
import { tinySearchConfig } from '../../fixtures/tiny-search.ts';
import { value } from '../../fixtures/api-value.ts';

const dataDir = mkdtempSync(join(tmpdir(), 'emonas-budget-stop-'));
const runsRoot = join(dataDir, 'runs');
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

/** 0.6 seconds: the tiny search's 4 formula candidates take at least 1.6 seconds one after another. */
const BUDGET_MINUTES = 0.01;
const problem = { kind: 'formula', delayMs: 400 };

describe('a search stopped by its time budget', () => {
  it('is listed as stopped at its budget, a paused one as paused, and resuming it ends finished', async () => {
    mkdirSync(runsRoot, { recursive: true });
    const budgetDir = join(runsRoot, 'run-budget');
    const budgeted = await searchWithinBudget(BUDGET_MINUTES, (deps) =>
      startSearch({ runDir: budgetDir, config: tinySearchConfig(4), problem }, deps),
    );
    expect(budgeted.search.status).toBe('stopped');
    expect(budgeted.search.evaluated).toBeLessThan(4);
    expect(budgeted.stoppedByBudget).toBe(true);
    expect(existsSync(join(budgetDir, RUN_FILES.budgetStop))).toBe(true);

    // The user stops this one after its first candidate, long before its budget.
    const pausedDir = join(runsRoot, 'run-paused');
    const user = new AbortController();
    const paused = await searchWithinBudget(
      60,
      (deps) => startSearch({ runDir: pausedDir, config: tinySearchConfig(4), problem }, deps),
      {
        signal: user.signal,
        onEvent: (event) => {
          if (event.type === 'candidate.completed') user.abort();
        },
      },
    );
    expect(paused.search.status).toBe('stopped');
    expect(paused.stoppedByBudget).toBe(false);
    expect(existsSync(join(pausedDir, RUN_FILES.budgetStop))).toBe(false);

    const engine = createEngine({ dataDir, log: () => undefined });
    const listed = value(await engine.call('run.list', {}));
    expect(listed.map((r) => [r.runId, r.state])).toEqual([
      ['run-budget', 'stopped-at-budget'],
      ['run-paused', 'paused'],
    ]);
    const { summary } = value(await engine.call('run.get', { runId: 'run-budget' }));
    expect(summary.stoppedAtBudget?.minutes).toBe(BUDGET_MINUTES);
    expect(Date.parse(summary.stoppedAtBudget?.at ?? '')).not.toBeNaN();
    expect(listed.find((r) => r.runId === 'run-paused')?.stoppedAtBudget).toBeUndefined();

    const onDisk = runsIn(runsRoot);
    expect(onDisk.map(runStatus)).toEqual(['stopped-at-budget', 'stopped']);
    const printed: string[] = [];
    const write = vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
      printed.push(String(chunk));
      return true;
    });
    try {
      expect(await runsCommand.run([runsRoot])).toBe(0);
    } finally {
      write.mockRestore();
    }
    const budgetLine = printed.find((line) => line.startsWith(budgetDir));
    expect(budgetLine).toContain(`stopped-at-budget  samea on formula`);
    expect(budgetLine).toContain(
      `search stopped at its 0.01-minute time budget; emonas resume ${budgetDir} continues it`,
    );
    const pausedLine = printed.find((line) => line.startsWith(pausedDir));
    expect(pausedLine).toContain('  stopped  samea on formula');
    expect(pausedLine).not.toContain('time budget');

    const finished = new Promise<void>((resolve) => engine.on('run.finished', () => resolve()));
    expect(value(await engine.call('search.resume', { runId: 'run-budget' })).state).toBe('running');
    await finished;
    const after = value(await engine.call('run.get', { runId: 'run-budget' })).summary;
    expect(after.state).toBe('finished');
    expect(after.evaluated).toBe(4);
    expect(after.stoppedAtBudget).toBeUndefined();
    expect(existsSync(join(budgetDir, RUN_FILES.budgetStop))).toBe(false);
    expect(runStatus(readOne(budgetDir))).toBe('finished');
    await engine.close();
  });
});

describe('a search stopped by its time budget, then cancelled in the app', () => {
  it('is listed by emonas runs as cancelled, in text and --json, and emonas resume refuses it', async () => {
    const cancelData = join(dataDir, 'cancel');
    const root = join(cancelData, 'runs');
    mkdirSync(root, { recursive: true });
    const runDir = join(root, 'run-cancelled');
    await searchWithinBudget(BUDGET_MINUTES, (deps) =>
      startSearch({ runDir, config: tinySearchConfig(4), problem }, deps),
    );
    expect(runStatus(readOne(runDir))).toBe('stopped-at-budget');
    expect(runState(readOne(runDir)), 'the run report').toMatch(/^not finished: stopped at .*\(resumable\)$/);

    const engine = createEngine({ dataDir: cancelData, log: () => undefined });
    expect(value(await engine.call('search.cancel', { runId: 'run-cancelled' })).state).toBe('cancelled');
    await engine.close();
    expect(existsSync(join(runDir, RUN_FILES.cancelled))).toBe(true);

    const text = await printedBy(() => runsCommand.run([root]));
    expect(text).toContain(`${runDir}  cancelled  samea on formula`);
    expect(text).toContain(
      `search cancelled, so emonas resume refuses it; what it evaluated stays (emonas front ${runDir})`,
    );
    expect(text).not.toContain('continues it');
    const listed = JSON.parse(await printedBy(() => runsCommand.run([root, '--json']))) as unknown[];
    expect(listed).toEqual([expect.objectContaining({ runDir, status: 'cancelled', cancelled: true })]);
    expect(runState(readOne(runDir)), 'the run report').toBe('not finished: cancelled (kept, not resumable)');

    const evaluated = readOne(runDir).evaluated;
    await expect(resumeCommand.run([runDir])).rejects.toMatchObject({
      code: 'conflict',
      message: expect.stringContaining('was cancelled, so it cannot be resumed'),
    });
    expect(readOne(runDir).evaluated).toBe(evaluated);
  });
});

/** What a command writes to stdout, once it has returned 0. */
async function printedBy(command: () => Promise<number>): Promise<string> {
  const printed: string[] = [];
  const write = vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
    printed.push(String(chunk));
    return true;
  });
  try {
    expect(await command()).toBe(0);
  } finally {
    write.mockRestore();
  }
  return printed.join('');
}

function readOne(runDir: string) {
  const [run] = runsIn(runDir);
  if (!run) throw new Error(`no run in ${runDir}`);
  return run;
}
