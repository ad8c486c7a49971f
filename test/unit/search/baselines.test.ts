import { describe, expect, it } from 'vitest';
import { genomeKey, validateIndices } from '../../../core/searchspace/encoding.ts';
import { runFormula } from './helpers.ts';

describe.each(['nsga2', 'random'] as const)('%s baseline', (algorithm) => {
  const run = runFormula({ algorithm, seed: 7, generations: 12, maxEvaluations: 100 });
  const archive = run.strategy.archive();

  it('evaluates exactly the budget, valid and without duplicates', () => {
    expect(archive).toHaveLength(100);
    const keys = archive.map((e) => genomeKey(e.spec.indices));
    expect(new Set(keys).size).toBe(100);
    for (const e of archive) expect(validateIndices(e.spec.indices)).toEqual(e.spec.indices);
  });

  it('is deterministic and logs a non-decreasing hypervolume', () => {
    const again = runFormula({ algorithm, seed: 7, generations: 12, maxEvaluations: 100 });
    expect(JSON.stringify(again.requests)).toBe(JSON.stringify(run.requests));
    const hv = run.logs.map((l) => l.hypervolume as number);
    expect(hv.length).toBeGreaterThan(1);
    for (let i = 1; i < hv.length; i++) expect(hv[i]).toBeGreaterThanOrEqual(hv[i - 1] as number);
  });
});

describe('NSGA-II', () => {
  it('improves on random search at equal evaluations on the formula problem', () => {
    let better = 0;
    for (const seed of [1, 2, 3, 4, 5]) {
      const hv = (algorithm: string): number =>
        runFormula({ algorithm, seed, maxEvaluations: 200 }).logs.at(-1)!.hypervolume as number;
      if (hv('nsga2') > hv('random')) better++;
    }
    expect(better).toBeGreaterThanOrEqual(4);
  });
});
