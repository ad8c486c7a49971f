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
    for (const b of batches.slice(1)) {
      if (b.candidates[0]!.phase !== 'infill') expect(b.candidates).toHaveLength(1);
    }
  });

  it('trains every child in the learning generations, subproblem j for child j', () => {
    for (let g = 1; g <= config.learningGenerations; g++) {
      const born = archive.filter((e) => e.spec.generation === g);
      expect(born.map((e) => e.spec.subproblem)).toEqual([0, 1, 2, 3, 4, 5]);
      expect(born.every((e) => e.spec.phase === 'learning' && e.spec.prediction === null)).toBe(true);
    }
  });

  it('screens exploitation children with the surrogate and trains at least the two infill picks', () => {
    const exploitation = run.logs.filter((l) => l.phase === 'exploitation');
    expect(exploitation).toHaveLength(config.generations - 1 - config.learningGenerations);
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
    for (const t of taus) expect(Math.abs(t as number)).toBeLessThanOrEqual(1);
  });

  it('never trains a duplicate or a genome that breaks the memory rule', () => {
    const keys = archive.map((e) => genomeKey(e.spec.indices));
    expect(new Set(keys).size).toBe(keys.length);
    for (const e of archive) expect(validateIndices(e.spec.indices)).toEqual(e.spec.indices);
  });

  it('replaces only within the child’s neighbourhood, and logs the reference mutation rates', () => {
    const hood = neighbourhoods(weightVectors(6, 0.5, 1), 3);
    for (const log of run.logs.slice(1)) {
      for (const r of log.replacements as { id: string; slots: number[] }[]) {
        const child = archive.find((e) => e.spec.id === r.id)!;
        for (const slot of r.slots) expect(hood[child.spec.subproblem!]).toContain(slot);
      }
      expect(log.mutationRate).toBeCloseTo(mutationRate(log.generation as number, 8, 1, 0.1), 12);
    }
  });

  it('keeps an archive whose hypervolume never decreases', () => {
    const hv = run.logs.map((l) => l.hypervolume as number);
    for (let i = 1; i < hv.length; i++) expect(hv[i]).toBeGreaterThanOrEqual(hv[i - 1] as number);
  });

  it('keeps every selection probability positive and normalised', () => {
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
    for (let g = 1; g < run.logs.length; g++) {
      const start = new Set(run.logs[g - 1]!.population as string[]);
      const born = run.strategy.archive().filter((e) => e.spec.generation === g && e.spec.phase !== 'infill');
      for (const e of born) for (const parent of e.spec.parents) expect(start.has(parent)).toBe(true);
    }
  });
});

describe('SaMEA budget', () => {
  it('stops at exactly maxEvaluations', () => {
    const run = runFormula({ ...SMALL_SAMEA, seed: 1, generations: 100, maxEvaluations: 31 });
    expect(run.strategy.archive()).toHaveLength(31);
  });
});
