import { describe, expect, it } from 'vitest';
import type { SameaConfig } from '../../../core/search/config.ts';
import { mutationRate, neighbourhoods, weightVectors } from '../../../core/search/decomposition.ts';
import type { EvaluateRequest } from '../../../core/search/protocol.ts';
import { genomeKey, validateIndices } from '../../../core/searchspace/encoding.ts';
import { runFormula, SMALL_SAMEA } from './helpers.ts';

const evaluations = (requests: unknown[]): EvaluateRequest[] =>
  requests.filter((r): r is EvaluateRequest => (r as { kind: string }).kind === 'evaluate');

describe('SaMEA on the formula problem', () => {
  const run = runFormula({ ...SMALL_SAMEA, seed: 5 });
  const archive = run.strategy.archive();
  const config = run.config as SameaConfig;

  it('is deterministic for a seed and differs between seeds', () => {
    const again = runFormula({ ...SMALL_SAMEA, seed: 5 });
    expect(JSON.stringify(again.requests)).toBe(JSON.stringify(run.requests));
    const other = runFormula({ ...SMALL_SAMEA, seed: 6 });
    expect(other.strategy.archive().map((e) => e.spec.id + genomeKey(e.spec.indices))).not.toEqual(
      archive.map((e) => e.spec.id + genomeKey(e.spec.indices)),
    );
  });

  it('trains the initial population as one batch, then one child at a time in reference order', () => {
    const batches = evaluations(run.requests);
    expect(batches[0]!.candidates.map((c) => c.id)).toEqual([
      'g0-c0',
      'g0-c1',
      'g0-c2',
      'g0-c3',
      'g0-c4',
      'g0-c5',
    ]);
    const children = batches.slice(1).filter((b) => b.candidates[0]!.phase !== 'infill');
    expect(children.length).toBeGreaterThan(0);
    for (const b of children) expect(b.candidates).toHaveLength(1);
  });

  it('trains every child in the learning generations, subproblem j for child j', () => {
    expect(config.learningGenerations).toBeGreaterThan(0);
    for (let g = 1; g <= config.learningGenerations; g++) {
      const born = archive.filter((e) => e.spec.generation === g);
      expect(born.map((e) => e.spec.subproblem)).toEqual([0, 1, 2, 3, 4, 5]);
      expect(born.every((e) => e.spec.phase === 'learning' && e.spec.prediction === null)).toBe(true);
    }
  });

  it('screens exploitation children with the surrogate and trains at least the two infill picks', () => {
    const exploitation = run.logs.filter((l) => l.phase === 'exploitation');
    expect(exploitation).toHaveLength(config.generations - 1 - config.learningGenerations);
    expect(exploitation.length).toBeGreaterThan(0);
    // The rule about infill picks below is tested only if some generation deferred two or more children.
    expect(exploitation.some((l) => (l.deferred as string[]).length >= 2)).toBe(true);
    for (const log of exploitation) {
      const trained = log.trained as string[];
      const deferred = log.deferred as string[];
      const infill = log.infill as string[];
      expect(trained.length).toBeLessThanOrEqual(config.population + infill.length);
      if (deferred.length >= 2) expect(infill.length).toBeGreaterThanOrEqual(2);
      for (const id of infill) expect(deferred).toContain(id);
    }
    const screened = archive.filter((e) => e.spec.generation > config.learningGenerations);
    expect(screened.length).toBeGreaterThan(0);
    expect(screened.every((e) => e.spec.prediction !== null && e.spec.prediction.std >= 0)).toBe(true);
    const taus = exploitation.map((l) => l.kendallTau).filter((t) => t !== null);
    expect(taus.length).toBeGreaterThan(0);
    for (const t of taus) expect(Math.abs(t as number)).toBeLessThanOrEqual(1);
  });

  it('never trains a duplicate or a genome that breaks the memory rule', () => {
    const keys = archive.map((e) => genomeKey(e.spec.indices));
    expect(new Set(keys).size).toBe(keys.length);
    for (const e of archive) expect(validateIndices(e.spec.indices)).toEqual(e.spec.indices);
  });

  it('replaces only within the child’s neighbourhood, and logs the reference mutation rates', () => {
    const hood = neighbourhoods(weightVectors(6, 0.5, 1), 3);
    expect(run.logs.length).toBeGreaterThan(1);
    let replaced = 0;
    for (const log of run.logs.slice(1)) {
      for (const r of log.replacements as { id: string; slots: number[] }[]) {
        const child = archive.find((e) => e.spec.id === r.id)!;
        for (const slot of r.slots) expect(hood[child.spec.subproblem!]).toContain(slot);
        replaced += r.slots.length;
      }
      expect(log.mutationRate).toBeCloseTo(mutationRate(log.generation as number, 8, 1, 0.1), 12);
    }
    expect(replaced).toBeGreaterThan(0);
  });

  it('keeps an archive whose hypervolume never decreases', () => {
    const hv = run.logs.map((l) => l.hypervolume as number);
    expect(hv.length).toBeGreaterThan(1);
    for (let i = 1; i < hv.length; i++) expect(hv[i]).toBeGreaterThanOrEqual(hv[i - 1] as number);
  });

  it('keeps every selection probability positive and normalised', () => {
    expect(run.logs.length).toBeGreaterThan(0);
    for (const log of run.logs) {
      const p = log.valueProbabilities as { genes: number[][]; restrictedOps: number[][] };
      for (const v of [...p.genes, ...p.restrictedOps, log.subproblemProbabilities as number[]]) {
        expect(Math.min(...v)).toBeGreaterThan(0);
        expect(v.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 9);
      }
    }
  });
});

describe('SaMEA with failures', () => {
  it('records diverged candidates as failed with the worst finite f1 and goes on', () => {
    const run = runFormula({ ...SMALL_SAMEA, seed: 3 }, { formula: { divergence: true } });
    const failed = run.strategy.archive().filter((e) => e.failed);
    expect(failed.length).toBeGreaterThan(0);
    for (const e of failed) {
      expect(e.outcome).toMatchObject({ status: 'failed', code: 'diverged' });
      expect(e.f1).toBe(1.5);
      expect(e.spec.genome.cells).toBe(9);
    }
    expect(run.logs.at(-1)!.generation).toBe(7);
    const p = run.logs.at(-1)!.valueProbabilities as { genes: number[][] };
    expect(p.genes.length).toBeGreaterThan(0);
    for (const v of p.genes) expect(Math.min(...v)).toBeGreaterThan(0);
  });

  it('records an evaluator that throws as a failure with its reason', () => {
    const run = runFormula(
      { ...SMALL_SAMEA, seed: 3, generations: 4 },
      {
        evaluate: (spec) => {
          if (spec.genome.ops[0] === 'identity') throw new Error('worker ran out of memory');
          return { status: 'completed', f1: 0.4 };
        },
      },
    );
    const failed = run.strategy.archive().filter((e) => e.failed);
    expect(failed.length).toBeGreaterThan(0);
    for (const e of failed)
      expect(e.outcome).toMatchObject({ status: 'failed', reason: 'worker ran out of memory' });
    expect(run.strategy.archive().length).toBeGreaterThan(6 * 3);
  });
});

describe('SaMEA with generation batches', () => {
  it('breeds a generation from its starting population and evaluates it as one batch', () => {
    const run = runFormula({ ...SMALL_SAMEA, seed: 4, evaluationOrder: 'generation' });
    const batches = evaluations(run.requests);
    const learning = batches.filter((b) => b.candidates[0]!.phase === 'learning');
    expect(learning).toHaveLength(3);
    for (const b of learning) expect(b.candidates).toHaveLength(6);
    let bred = 0;
    for (let g = 1; g < run.logs.length; g++) {
      const start = new Set(run.logs[g - 1]!.population as string[]);
      const born = run.strategy.archive().filter((e) => e.spec.generation === g && e.spec.phase !== 'infill');
      for (const e of born) {
        expect(e.spec.parents.length).toBeGreaterThan(0);
        for (const parent of e.spec.parents) expect(start.has(parent)).toBe(true);
      }
      bred += born.length;
    }
    expect(bred).toBeGreaterThan(0);
  });
});

describe('SaMEA with generation batches and a per-child refit', () => {
  const perChild = runFormula({
    ...SMALL_SAMEA,
    seed: 4,
    evaluationOrder: 'generation',
    surrogate: { trees: 30, engine: 'fast-cart', refit: 'per-child' },
  });
  const config = perChild.config as SameaConfig;

  it('refits the surrogate after each child result, in child order, with children bred from the generation start', () => {
    expect(config.evaluationOrder).toBe('generation');
    expect(config.surrogate.refit).toBe('per-child');
    let trainedSoFar = 0;
    const screened: string[] = [];
    for (const request of perChild.requests) {
      if (request.kind === 'evaluate') trainedSoFar += request.candidates.length;
      if (request.kind !== 'predict') continue;
      expect(request.ids).toHaveLength(1);
      // The forest is fitted on every candidate trained so far, the elder siblings included.
      expect(request.train.y).toHaveLength(trainedSoFar);
      screened.push(request.ids[0] as string);
    }
    expect(screened.length).toBeGreaterThan(config.population);
    const exploitation = perChild.logs.filter((l) => l.phase === 'exploitation');
    expect(exploitation.length).toBeGreaterThan(0);
    let bred = 0;
    for (const log of exploitation) {
      const g = log.generation as number;
      const children = screened.filter((id) => id.startsWith(`g${g}-`));
      expect(children).toEqual(Array.from({ length: config.population }, (_, j) => `g${g}-c${j}`));
      const start = new Set(perChild.logs[g - 1]!.population as string[]);
      // Trained children and infill picks alike were bred before any sibling replaced an incumbent.
      const born = perChild.strategy.archive().filter((e) => e.spec.generation === g);
      for (const e of born) for (const parent of e.spec.parents) expect(start.has(parent)).toBe(true);
      bred += born.length;
    }
    expect(bred).toBeGreaterThan(0);
  });

  it('trains screened children one at a time while learning generations stay one batch', () => {
    const batches = evaluations(perChild.requests);
    const learning = batches.filter((b) => b.candidates[0]!.phase === 'learning');
    expect(learning).toHaveLength(config.learningGenerations);
    for (const b of learning) expect(b.candidates).toHaveLength(config.population);
    const screened = batches.filter((b) => b.candidates[0]!.phase === 'exploitation');
    expect(screened.length).toBeGreaterThan(0);
    for (const b of screened) expect(b.candidates).toHaveLength(1);
  });

  it('differs from a per-generation refit, which screens a generation with one fit', () => {
    const perGeneration = runFormula({
      ...SMALL_SAMEA,
      seed: 4,
      evaluationOrder: 'generation',
      surrogate: { trees: 30, engine: 'fast-cart', refit: 'per-generation' },
    });
    const predictions = perGeneration.requests.filter((r) => r.kind === 'predict');
    expect(predictions.length).toBeGreaterThan(0);
    for (const r of predictions) expect(r.ids).toHaveLength(config.population);
  });
});

describe('SaMEA budget', () => {
  it('stops at exactly maxEvaluations', () => {
    const run = runFormula({ ...SMALL_SAMEA, seed: 1, generations: 100, maxEvaluations: 31 });
    expect(run.strategy.archive()).toHaveLength(31);
  });
});
