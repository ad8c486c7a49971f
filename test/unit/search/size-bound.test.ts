import { existsSync } from 'node:fs';
import { totalmem } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { InProcessExecutor } from '../../../core/executors/in-process.ts';
import type { EvaluationTask } from '../../../core/executors/executor.ts';
import { sizeCheck } from '../../../core/nn/size-check.ts';
import { readJournal } from '../../../core/runs/journal.ts';
import { RUN_FILES, readRunManifest } from '../../../core/runs/run-folder.ts';
import { runStudy } from '../../../core/runs/study.ts';
import { resolveSearchConfig } from '../../../core/search/config.ts';
import { createStrategy } from '../../../core/search/create-strategy.ts';
import { formulaEvaluator } from '../../../core/search/formula-problem.ts';
import type { CandidateSpec, EvaluateRequest } from '../../../core/search/protocol.ts';
import { RandomForestSurrogate } from '../../../core/search/surrogate.ts';
import { startSearch } from '../../../core/service/search.ts';
import { decode, genomeKey, validateIndices } from '../../../core/searchspace/encoding.ts';
import { repairToBound, type SizeCheck } from '../../../core/searchspace/size-bound.ts';
import { tempDirs } from '../../fixtures/temp-dir.ts';
import { smallHippocampus } from '../api/demo-fixture.ts';
import { decisionLines, resultIds } from '../runs/fixtures.ts';
import { context, paramCounter, runFormula, SMALL_SAMEA } from './helpers.ts';

const TASK = { inChannels: 1, classes: 1 };
/** About a third of the search space's networks have more parameters than this. */
const TIGHT = sizeCheck({ maxParams: 150_000, memory: null }, TASK) as SizeCheck;
const LOOSE = sizeCheck({ maxParams: 1e12, memory: null }, TASK) as SizeCheck;
const formula = formulaEvaluator({ noise: 0, noiseSeed: 0, divergence: false });

const within = (indices: readonly number[], check: SizeCheck): boolean => check(decode(indices)) === null;
const evaluations = (requests: unknown[]): EvaluateRequest[] =>
  requests.filter((r): r is EvaluateRequest => (r as { kind: string }).kind === 'evaluate');

const SETTINGS = {
  samea: { ...SMALL_SAMEA, seed: 5 },
  'samea, generation order, repair before the duplicate check': {
    ...SMALL_SAMEA,
    seed: 6,
    evaluationOrder: 'generation',
    repairOrder: 'before-duplicate-check',
  },
  nsga2: { algorithm: 'nsga2', seed: 7, generations: 6, maxEvaluations: 40 },
  random: { algorithm: 'random', seed: 7, generations: 6, maxEvaluations: 40 },
} as const;

describe.each(Object.entries(SETTINGS))('%s with a tight parameter bound', (name, overrides) => {
  const handed: CandidateSpec[] = [];
  const run = runFormula(overrides, {
    sizeCheck: TIGHT,
    evaluate: (spec) => {
      handed.push(spec);
      return formula(spec);
    },
  });
  const archive = run.strategy.archive();
  const fitted = archive.filter((e) => e.spec.sizeFit !== undefined);

  it('evaluates only genomes within the bound, valid and without duplicates', () => {
    expect(handed.length).toBeGreaterThanOrEqual(30);
    for (const spec of handed) {
      expect(validateIndices(spec.indices)).toEqual(spec.indices);
      expect(TIGHT(spec.genome)).toBeNull();
    }
    const keys = archive.map((e) => genomeKey(e.spec.indices));
    expect(new Set(keys).size).toBe(keys.length);
  });

  it('records on each changed candidate how the bound changed it', () => {
    expect(fitted.length).toBeGreaterThan(3);
    for (const { spec } of fitted) {
      const fit = spec.sizeFit!;
      if (name === 'random') {
        expect(fit.method).toBe('redrawn');
        if (fit.method === 'redrawn') expect(fit.rejected).toBeGreaterThan(0);
      } else {
        expect(fit.method).toBe('repaired');
        if (fit.method !== 'repaired') continue;
        expect(within(fit.from, TIGHT)).toBe(false);
        expect(repairToBound(fit.from, TIGHT, paramCounter)).toEqual(spec.indices);
      }
    }
  });

  it('counts them in the generation logs', () => {
    expect(run.logs.length).toBeGreaterThan(1);
    const counted = run.logs.reduce((sum, log) => sum + (log.repaired as number), 0);
    expect(counted).toBe(fitted.length);
  });

  it('is deterministic', () => {
    const again = runFormula(overrides, { sizeCheck: TIGHT });
    expect(JSON.stringify(again.requests)).toBe(JSON.stringify(run.requests));
  });

  it('decides exactly as without a bound when the bound never bites', () => {
    const free = runFormula(overrides);
    const loose = runFormula(overrides, { sizeCheck: LOOSE });
    const candidates = (requests: unknown[]): string =>
      JSON.stringify(evaluations(requests).map((r) => r.candidates));
    expect(evaluations(free.requests).length).toBeGreaterThan(1);
    expect(candidates(loose.requests)).toBe(candidates(free.requests));
    expect(free.logs.every((log) => !('repaired' in log))).toBe(true);
    expect(loose.logs.every((log) => log.repaired === 0)).toBe(true);
  });
});

/** An in-process formula executor that records every task handed to it. */
function recordingExecutor(tasks: EvaluationTask[]): InProcessExecutor {
  return new InProcessExecutor((task) => {
    tasks.push(task);
    return formula({ indices: task.indices, genome: task.genome, f2: Math.log(paramCounter(task.genome)) });
  });
}

const journaledSpecs = (dir: string): CandidateSpec[] =>
  readJournal(join(dir, RUN_FILES.journal)).records.flatMap((r) =>
    r.t === 'decision' && r.request.kind === 'evaluate' ? r.request.candidates : [],
  );

describe('a search run with a tight bound', () => {
  const dirs = tempDirs('size-bound');
  afterAll(dirs.cleanup);
  const config = resolveSearchConfig({ ...SMALL_SAMEA, seed: 9 });

  function study(dir: string, tasks: EvaluationTask[], signal?: AbortSignal, onCompleted?: () => void) {
    return runStudy({
      dir,
      strategy: createStrategy(config, { ...context, sizeCheck: TIGHT }),
      executor: recordingExecutor(tasks),
      surrogate: new RandomForestSurrogate(),
      sizeCheck: TIGHT,
      ...(signal && { signal }),
      onEvent: (e) => {
        if (e.type === 'candidate.completed') onCompleted?.();
      },
    });
  }

  it('hands the executor only genomes within the bound, journals the repairs, and resumes exactly', async () => {
    const reference = dirs.make();
    const handed: EvaluationTask[] = [];
    const whole = await study(reference, handed);
    expect(whole.status).toBe('finished');
    expect(handed.length).toBe(whole.evaluated);
    for (const task of handed) expect(TIGHT(task.genome)).toBeNull();
    const repaired = journaledSpecs(reference).filter((s) => s.sizeFit?.method === 'repaired');
    expect(repaired.length).toBeGreaterThan(3);

    const stopped = dirs.make();
    const controller = new AbortController();
    let completed = 0;
    // Stop after the first repaired candidate has been evaluated, so the resumed part replays repairs.
    const firstRepairedAt = handed.findIndex((t) => repaired.some((s) => s.id === t.id)) + 1;
    expect(firstRepairedAt).toBeGreaterThan(0);
    const stopAt = Math.max(firstRepairedAt, 20);
    expect(stopAt).toBeLessThan(whole.evaluated);
    const part = await study(stopped, [], controller.signal, () => {
      if (++completed === stopAt) controller.abort();
    });
    expect(part.status).toBe('stopped');
    const done = resultIds(stopped);
    expect(done.length).toBeGreaterThanOrEqual(firstRepairedAt);
    const second: EvaluationTask[] = [];
    const rest = await study(stopped, second);
    expect(rest.status).toBe('finished');
    expect(decisionLines(stopped)).toEqual(decisionLines(reference));
    expect(second.length).toBeGreaterThan(0);
    for (const task of second) expect(TIGHT(task.genome)).toBeNull();
    expect(second.filter((t) => done.includes(t.id))).toEqual([]);
  });

  it('refuses, as its last guard, a candidate outside the bound, before any reaches the executor', async () => {
    const unbounded = createStrategy(config, context);
    const request = unbounded.ask();
    expect(request.kind).toBe('evaluate');
    const outside = (request as EvaluateRequest).candidates.filter((c) => TIGHT(c.genome) !== null);
    expect(outside.length).toBeGreaterThan(0);
    const handed: EvaluationTask[] = [];
    await expect(
      runStudy({
        dir: dirs.make(),
        strategy: unbounded,
        executor: recordingExecutor(handed),
        surrogate: new RandomForestSurrogate(),
        sizeCheck: TIGHT,
      }),
    ).rejects.toThrow(
      new RegExp(
        `^Candidate ${outside[0]!.id} has [\\d,]+ parameters, more than the search's bound of 150,000 \\(maxParams\\); the search should have repaired it`,
      ),
    );
    expect(handed).toEqual([]);
  });
});

describe('a dataset search with maxParams', () => {
  const dirs = tempDirs('size-bound-dataset');
  afterAll(dirs.cleanup);

  it('records its bound in run.json and trains no candidate outside it', { timeout: 120_000 }, async () => {
    const root = dirs.make();
    const runDir = join(root, 'run');
    const handed: EvaluationTask[] = [];
    const summary = await startSearch(
      {
        runDir,
        config: { preset: 'quick', seed: 3, population: 4, generations: 3, learningGenerations: 1 },
        problem: {
          kind: 'dataset',
          dataset: smallHippocampus(),
          maxParams: 150_000,
          cacheDir: join(root, 'cache'),
          valFraction: 0.34,
          testFraction: 0,
        },
      },
      { executor: recordingExecutor(handed), surrogate: new RandomForestSurrogate() },
    );
    expect(summary.status).toBe('finished');
    const manifest = readRunManifest(runDir);
    expect(manifest.sizeBound).toEqual({
      maxParams: 150_000,
      memory: { budgetBytes: Math.floor(totalmem() * 0.75), patch: expect.any(Array), batch: 2 },
    });
    const check = sizeCheck(manifest.sizeBound!, manifest.task) as SizeCheck;
    expect(handed.length).toBe(summary.evaluated);
    for (const task of handed) expect(check(task.genome)).toBeNull();
    expect(journaledSpecs(runDir).filter((s) => s.sizeFit !== undefined).length).toBeGreaterThan(0);
    const results = readJournal(join(runDir, RUN_FILES.journal)).records.filter((r) => r.t === 'result');
    expect(results.length).toBe(summary.evaluated);
    expect(results.filter((r) => r.outcome.status === 'failed')).toEqual([]);
  });

  it('refuses a bound no network meets before making the run folder', { timeout: 120_000 }, async () => {
    const root = dirs.make();
    const runDir = join(root, 'run');
    await expect(
      startSearch({
        runDir,
        config: { preset: 'quick' },
        problem: {
          kind: 'dataset',
          dataset: smallHippocampus(),
          maxParams: 1_000,
          cacheDir: join(root, 'cache'),
        },
      }),
    ).rejects.toThrow(
      /^No network of the search space is within this search's size bound: even the smallest/,
    );
    expect(existsSync(runDir)).toBe(false);
  });
});
