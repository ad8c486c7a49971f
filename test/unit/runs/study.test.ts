import { appendFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EmonasError } from '../../../core/base/errors.ts';
import { InProcessExecutor } from '../../../core/executors/in-process.ts';
import type { EvaluationTask, Executor } from '../../../core/executors/executor.ts';
import { readJournal } from '../../../core/runs/journal.ts';
import { RUN_FILES } from '../../../core/runs/run-folder.ts';
import { formulaEvaluator } from '../../../core/search/formula-problem.ts';
import type { EvaluationOutcome } from '../../../core/search/protocol.ts';
import { front, listRuns } from '../../../core/runs/run-summary.ts';
import { resume, startSearch } from '../../../core/service/search.ts';
import { countParams } from '../../../core/nn/param-count.ts';
import { RUN_CONFIG, decisionLines, resultIds, tempRoot } from './fixtures.ts';

const evaluate = formulaEvaluator();
const f2 = (task: EvaluationTask): number =>
  Math.log(countParams(task.genome, { inChannels: 1, classes: 1 }));

/**
 * An in-process formula executor that counts, per candidate, the results it hands to the study (a
 * cancelled evaluation's result is not one).
 */
function countingExecutor(
  delivered: Map<string, number>,
  override?: (task: EvaluationTask) => EvaluationOutcome | null,
  slots = 1,
): Executor {
  const inner = new InProcessExecutor(
    async (task) =>
      override?.(task) ?? evaluate({ indices: task.indices, genome: task.genome, f2: f2(task) }),
    { slots },
  );
  const collect = inner.collect.bind(inner);
  inner.collect = async () => {
    const results = await collect();
    for (const r of results) {
      if (r.outcome.status === 'failed' && r.outcome.code === 'cancelled') continue;
      delivered.set(r.id, (delivered.get(r.id) ?? 0) + 1);
    }
    return results;
  };
  return inner;
}

describe('a search run on disk', () => {
  const root = tempRoot();
  const reference = join(root, 'reference');
  const done = startSearch({ runDir: reference, config: RUN_CONFIG });

  it('writes run.json, the journal, candidate folders and the tables', async () => {
    const summary = await done;
    expect(summary.status).toBe('finished');
    const manifest = JSON.parse(readFileSync(join(reference, RUN_FILES.manifest), 'utf8'));
    expect(manifest).toMatchObject({ format: 'emonas-run', formatVersion: 1, problem: { kind: 'formula' } });
    expect(manifest.search.population).toBe(6);
    expect(manifest.software['ml-random-forest']).toBe('2.1.0');
    expect(manifest.normalisation.lnParamsMin).toBeCloseTo(8.5473, 4);
    expect(manifest.normalisation.lnParamsMax).toBeCloseTo(17.7163, 4);
    const pareto = readFileSync(join(reference, RUN_FILES.pareto), 'utf8').split('\n');
    expect(pareto[0]).toBe(
      ',index,learning_rate,node2_inp,node3_inp,node4_inp,ops1,ops2,ops3,ops4,num_cells,num_filters,total_loss,val_loss,train_loss,param_count',
    );
    expect(pareto.filter((l) => l.length > 0)).toHaveLength(summary.front.length + 1);
    const f1s = summary.front.map((r) => r.f1);
    expect([...f1s].sort((a, b) => a - b)).toEqual(f1s);
    const ids = resultIds(reference);
    expect(ids).toHaveLength(summary.evaluated);
    for (const id of ids) expect(existsSync(join(reference, 'candidates', id, 'candidate.json'))).toBe(true);
    expect(readFileSync(join(reference, RUN_FILES.candidates), 'utf8').split('\n')[0]).toContain(
      'predicted_f1_norm',
    );
  });

  it('lists runs and reads the front from the journal', async () => {
    const summary = await done;
    const runs = listRuns({ root });
    expect(runs.map((r) => r.id)).toContain('reference');
    const listed = runs.find((r) => r.id === 'reference');
    expect(listed).toMatchObject({
      algorithm: 'samea',
      problem: 'formula',
      finished: true,
      evaluated: summary.evaluated,
    });
    expect(front({ runDir: reference })).toEqual(summary.front);
  });

  it('resumes a stopped run into exactly the uninterrupted run, evaluating nothing completed twice', async () => {
    await done;
    const runDir = join(root, 'stopped');
    const calls = new Map<string, number>();
    const controller = new AbortController();
    let completed = 0;
    const first = await startSearch(
      { runDir, config: RUN_CONFIG },
      {
        executor: countingExecutor(calls),
        signal: controller.signal,
        onEvent: (e) => {
          if (e.type === 'candidate.completed' && ++completed === 23) controller.abort();
        },
      },
    );
    expect(first.status).toBe('stopped');
    const second = await resume({ runDir }, { executor: countingExecutor(calls) });
    expect(second.status).toBe('finished');
    expect(decisionLines(runDir)).toEqual(decisionLines(reference));
    expect(second.front).toEqual(front({ runDir: reference }));
    const ids = resultIds(runDir);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.filter((id) => calls.get(id) !== 1)).toEqual([]);
  });

  it('re-evaluates a candidate that was submitted but has no result', async () => {
    await done;
    const runDir = join(root, 'crashed');
    const calls = new Map<string, number>();
    let evaluations = 0;
    // The engine "dies" on the 10th evaluation: the promise never settles and the study is abandoned.
    const dying = countingExecutor(calls, () => {
      if (++evaluations === 10) throw new Error('engine lost');
      return null;
    });
    const crashing: Executor = {
      ...dying,
      capabilities: () => dying.capabilities(),
      submit: (t) => dying.submit(t),
      poll: () => dying.poll(),
      cancel: (ids) => dying.cancel(ids),
      reattach: (h) => dying.reattach(h),
      close: () => dying.close(),
      waitForResults: (ms) => dying.waitForResults(ms),
      collect: async () => {
        const results = await dying.collect();
        if (results.some((r) => r.outcome.status === 'failed')) throw new Error('engine lost');
        return results;
      },
    };
    await expect(startSearch({ runDir, config: RUN_CONFIG }, { executor: crashing })).rejects.toThrow(
      'engine lost',
    );
    const records = readJournal(join(runDir, RUN_FILES.journal)).records;
    const submitted = records.filter((r) => r.t === 'submitted').map((r) => (r as { id: string }).id);
    const answered = new Set(resultIds(runDir));
    const interrupted = submitted.filter((id) => !answered.has(id));
    expect(interrupted).toHaveLength(1);
    // Its result reached the dying engine but never the journal.
    expect(calls.get(interrupted[0] as string)).toBe(1);
    await resume({ runDir }, { executor: countingExecutor(calls) });
    expect(calls.get(interrupted[0] as string)).toBe(2);
    expect(resultIds(runDir).filter((id) => id === interrupted[0])).toHaveLength(1);
    expect(resultIds(runDir).filter((id) => id !== interrupted[0] && calls.get(id) !== 1)).toEqual([]);
    expect(decisionLines(runDir)).toEqual(decisionLines(reference));
  });

  it('records failing candidates with their reason and finishes', async () => {
    const runDir = join(root, 'failing');
    const calls = new Map<string, number>();
    const summary = await startSearch(
      { runDir, config: RUN_CONFIG },
      {
        executor: countingExecutor(calls, (task) => {
          if (task.genome.ops[1] === 'identity')
            throw new EmonasError('out_of_memory', 'The GPU ran out of memory.');
          if (task.genome.ops[2] === 'identity') return { status: 'completed', f1: Number.NaN };
          return null;
        }),
      },
    );
    expect(summary.status).toBe('finished');
    const failures = readJournal(join(runDir, RUN_FILES.journal)).records.filter(
      (r) => r.t === 'result' && r.outcome.status === 'failed',
    );
    expect(failures.length).toBeGreaterThan(0);
    for (const r of failures) {
      const outcome = (r as { outcome: { code: string; reason: string } }).outcome;
      expect(['out_of_memory', 'diverged']).toContain(outcome.code);
      expect(outcome.reason.length).toBeGreaterThan(10);
    }
    expect(readFileSync(join(runDir, RUN_FILES.candidates), 'utf8')).toContain('The GPU ran out of memory.');
  });

  it('ignores a torn last journal line with a note', async () => {
    await done;
    const runDir = join(root, 'torn');
    await startSearch({ runDir, config: RUN_CONFIG });
    appendFileSync(join(runDir, RUN_FILES.journal), '{"t":"result","id":"g9-c');
    const again = await resume({ runDir });
    expect(again.notes.join(' ')).toContain('torn last line');
    expect(readFileSync(join(runDir, RUN_FILES.journal), 'utf8')).not.toContain('"g9-c\n');
    expect(decisionLines(runDir)).toEqual(decisionLines(reference));
  });

  it('refuses to resume a run whose settings no longer produce its journal', async () => {
    await done;
    const runDir = join(root, 'edited');
    await startSearch({ runDir, config: RUN_CONFIG });
    const path = join(runDir, RUN_FILES.manifest);
    const manifest = JSON.parse(readFileSync(path, 'utf8'));
    manifest.search.seed = 99;
    writeFileSync(path, JSON.stringify(manifest));
    await expect(resume({ runDir })).rejects.toSatisfy(
      (err: unknown) =>
        err instanceof EmonasError && err.code === 'conflict' && err.file?.endsWith('journal.jsonl') === true,
    );
  });

  it('refuses to open a run another live process holds, and a new run over an old one', async () => {
    await done;
    writeFileSync(join(reference, 'run.lock'), String(process.ppid));
    await expect(resume({ runDir: reference })).rejects.toThrow('already open in another process');
    writeFileSync(join(reference, 'run.lock'), '999999999');
    await expect(resume({ runDir: reference })).resolves.toMatchObject({ status: 'finished' });
    await expect(startSearch({ runDir: reference, config: RUN_CONFIG })).rejects.toThrow(
      'A run already exists',
    );
  });

  it('batches generations by itself with several slots, and stays deterministic', async () => {
    const many = join(root, 'slots3');
    const one = join(root, 'slots1');
    const a = await startSearch(
      { runDir: many, config: RUN_CONFIG },
      { executor: countingExecutor(new Map(), undefined, 3) },
    );
    const manifest = JSON.parse(readFileSync(join(many, RUN_FILES.manifest), 'utf8'));
    expect(manifest.search.evaluationOrder).toBe('generation');
    expect(manifest.search.surrogate.refit).toBe('per-generation');
    expect(manifest.executor.slots).toBe(3);
    expect(manifest.evaluation).toMatchObject({
      slots: 3,
      order: 'generation',
      surrogateRefit: 'per-generation',
    });
    expect(manifest.evaluation.description).toContain('once per generation');
    const b = await startSearch(
      {
        runDir: one,
        config: {
          ...RUN_CONFIG,
          evaluationOrder: 'generation',
          surrogate: { trees: 30, refit: 'per-generation' },
        },
      },
      { executor: countingExecutor(new Map(), undefined, 1) },
    );
    expect(decisionLines(many)).toEqual(decisionLines(one));
    expect(a.front).toEqual(b.front);
  });

  it('keeps a configured per-child refit with several slots and records it in run.json', async () => {
    const runDir = join(root, 'per-child');
    const config = { ...RUN_CONFIG, surrogate: { trees: 30, refit: 'per-child' } };
    await startSearch({ runDir, config }, { executor: countingExecutor(new Map(), undefined, 3) });
    const manifest = JSON.parse(readFileSync(join(runDir, RUN_FILES.manifest), 'utf8'));
    expect(manifest.search.surrogate.refit).toBe('per-child');
    expect(manifest.evaluation).toMatchObject({ slots: 3, order: 'generation', surrogateRefit: 'per-child' });
    const predictions = readJournal(join(runDir, RUN_FILES.journal)).records.flatMap((r) =>
      r.t === 'prediction' ? [r] : [],
    );
    expect(predictions.length).toBeGreaterThan(0);
    // One forest per screened child, each on a longer archive prefix than the one before within a generation.
    for (const p of predictions) expect(p.ids).toHaveLength(1);
  });

  it('replays a run made before run.json stated its evaluation as it ran', async () => {
    const runDir = join(root, 'before-evaluation');
    await startSearch(
      { runDir, config: RUN_CONFIG },
      { executor: countingExecutor(new Map(), undefined, 3) },
    );
    const path = join(runDir, RUN_FILES.manifest);
    const old = JSON.parse(readFileSync(path, 'utf8'));
    // Such runs kept the preset's per-child refit in run.json yet refitted once per generation.
    delete old.evaluation;
    old.search.surrogate.refit = 'per-child';
    writeFileSync(path, JSON.stringify(old));
    await expect(resume({ runDir })).resolves.toMatchObject({ status: 'finished' });
  });
});
