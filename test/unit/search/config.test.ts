import { describe, expect, it } from 'vitest';
import { EmonasError } from '../../../core/base/errors.ts';
import { presetConfig, resolveSearchConfig, type SameaConfig } from '../../../core/search/config.ts';

function refusal(input: unknown): string {
  try {
    resolveSearchConfig(input);
  } catch (err) {
    expect((err as EmonasError).code).toBe('bad_request');
    return (err as Error).message;
  }
  throw new Error('expected a refusal');
}

describe('search configuration', () => {
  it('defaults to the reference constants (paper preset)', () => {
    const c = resolveSearchConfig() as SameaConfig;
    expect(c).toMatchObject({
      algorithm: 'samea',
      seed: 12,
      population: 10,
      neighbourhood: 3,
      generations: 40,
      learningGenerations: 10,
      theta: 0.001,
      weightRange: [0.5, 1],
      mutation: { phi0: 1, floor: 0.1, horizon: null },
      selectionFloor: 0.2,
      objective: { alpha: 0.25, beta: 0.25, epochs: 120 },
      evaluationOrder: 'sequential',
      repairOrder: 'after-duplicate-check',
      duplicateKey: 'indices',
      infill: true,
    });
    expect(c.surrogate).toMatchObject({
      enabled: true,
      trees: 100,
      minSamplesSplit: 5,
      maxFeatures: 1,
      seed: 0,
    });
    expect(c.surrogate.refit).toBe('per-child');
  });

  it('has a quick preset for two CPU cores', () => {
    const c = resolveSearchConfig({ preset: 'quick' }) as SameaConfig;
    expect([c.population, c.generations, c.learningGenerations, c.objective.epochs]).toEqual([6, 4, 2, 6]);
  });

  it('merges nested overrides and keeps the rest', () => {
    const c = resolveSearchConfig({
      surrogate: { refit: 'per-generation' },
      seed: 3,
      maxEvaluations: 50,
    }) as SameaConfig;
    expect(c.surrogate.refit).toBe('per-generation');
    expect(c.surrogate.trees).toBe(100);
    expect(c.seed).toBe(3);
    expect(c.maxEvaluations).toBe(50);
    expect(presetConfig().seed).toBe(12);
  });

  it('configures the baselines with the same budget', () => {
    expect(resolveSearchConfig({ algorithm: 'nsga2' })).toMatchObject({
      population: 10,
      generations: 40,
      mutationRate: 0.1,
    });
    expect(resolveSearchConfig({ algorithm: 'random', preset: 'quick' })).toMatchObject({
      batch: 6,
      generations: 4,
    });
  });

  it('refuses what it cannot run, naming the setting', () => {
    expect(refusal({ populaton: 4 })).toContain('no setting populaton');
    expect(refusal({ population: '10' })).toContain('population must be a number');
    expect(refusal({ population: 1 })).toContain('population');
    expect(refusal({ neighbourhood: 12 })).toContain('neighbourhood must not exceed population');
    expect(refusal({ learningGenerations: 40 })).toContain('learningGenerations');
    expect(refusal({ surrogate: { refit: 'weekly' } })).toContain('surrogate.refit');
    expect(refusal({ surrogate: { maxFeatures: 2 } })).toContain('maxFeatures');
    expect(refusal({ weightRange: [0.5] })).toContain('weightRange');
    expect(refusal({ algorithm: 'cma' })).toContain('Unknown algorithm');
    expect(refusal({ preset: 'fast' })).toContain('Unknown preset');
    expect(refusal({ maxEvaluations: 3 })).toContain('at least the population');
    expect(refusal('samea')).toContain('is an object');
  });
});
