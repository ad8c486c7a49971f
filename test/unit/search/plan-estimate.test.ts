// The arithmetic on a search configuration (core/search/plan.ts) and the wizard's estimate built on it
// (core/search/estimate.ts), checked against numbers worked out by hand.
import { describe, expect, it } from 'vitest';
import { resolveSearchConfig } from '../../../core/search/config.ts';
import { estimateCost, type CostInputs } from '../../../core/search/estimate.ts';
import {
  evaluationPlan,
  generationSize,
  plannedEvaluations,
  withEvaluationOrder,
} from '../../../core/search/plan.ts';

describe('the plan of a search configuration', () => {
  it('counts a generation as the population, or the random search batch', () => {
    const samea = resolveSearchConfig({ preset: 'paper' });
    expect(samea.algorithm).toBe('samea');
    expect(generationSize(samea)).toBe(10);
    expect(plannedEvaluations(samea)).toBe(10 * 40);
    const random = resolveSearchConfig({ algorithm: 'random', batch: 7, generations: 3 });
    expect(random.algorithm).toBe('random');
    expect(generationSize(random)).toBe(7);
    expect(plannedEvaluations(random)).toBe(21);
  });

  it('caps the planned candidates at maxEvaluations', () => {
    const capped = resolveSearchConfig({ preset: 'paper', maxEvaluations: 25 });
    expect(plannedEvaluations(capped)).toBe(25);
    const loose = resolveSearchConfig({ preset: 'paper', maxEvaluations: 1000 });
    expect(plannedEvaluations(loose)).toBe(400);
  });

  it('batches SaMEA generations and refits once per generation for several slots unless chosen', () => {
    const given = { algorithm: 'samea', seed: 3 };
    const batched = { evaluationOrder: 'generation', surrogate: { refit: 'per-generation' } };
    expect(withEvaluationOrder(given, 1)).toBe(given);
    expect(withEvaluationOrder(given, 2)).toEqual({ ...given, ...batched });
    expect(withEvaluationOrder({ surrogate: { trees: 5 } }, 4)).toEqual({
      evaluationOrder: 'generation',
      surrogate: { trees: 5, refit: 'per-generation' },
    });
    const chosen = { evaluationOrder: 'sequential' };
    expect(withEvaluationOrder(chosen, 4)).toBe(chosen);
    const generationOnly = { evaluationOrder: 'generation' };
    expect(withEvaluationOrder(generationOnly, 4)).toEqual(batched);
    // A configured per-child refit is kept: the strategy honours it in generation order.
    const perChild = { surrogate: { refit: 'per-child' } };
    expect(withEvaluationOrder(perChild, 4)).toEqual({ ...perChild, evaluationOrder: 'generation' });
    const nsga2 = { algorithm: 'nsga2' };
    expect(withEvaluationOrder(nsga2, 4)).toBe(nsga2);
    // A malformed surrogate setting is left for resolveSearchConfig to refuse by name.
    expect(() => resolveSearchConfig(withEvaluationOrder({ surrogate: 3 }, 4))).toThrow('surrogate');
  });

  it('states the evaluation order and refit as run.json records them', () => {
    const reference = evaluationPlan(resolveSearchConfig({ preset: 'paper' }), 1);
    expect(reference).toMatchObject({ slots: 1, order: 'sequential', surrogateRefit: 'per-child' });
    expect(reference.description).toContain("the reference's order");
    const batched = evaluationPlan(resolveSearchConfig(withEvaluationOrder({ preset: 'paper' }, 3)), 3);
    expect(batched).toMatchObject({ slots: 3, order: 'generation', surrogateRefit: 'per-generation' });
    expect(batched.description).toContain('up to 3 at once');
    expect(batched.description).toContain('once per generation');
    const perChild = { preset: 'paper', surrogate: { refit: 'per-child' } };
    const honoured = evaluationPlan(resolveSearchConfig(withEvaluationOrder(perChild, 3)), 3);
    expect(honoured).toMatchObject({ order: 'generation', surrogateRefit: 'per-child' });
    expect(honoured.description).toContain('one at a time');
    const off = evaluationPlan(resolveSearchConfig({ preset: 'quick', surrogate: { enabled: false } }), 2);
    expect(off.surrogateRefit).toBeNull();
    const random = evaluationPlan(resolveSearchConfig({ algorithm: 'random' }), 2);
    expect(random).toMatchObject({ order: 'generation', surrogateRefit: null });
  });
});

describe('the cost of a search', () => {
  const inputs: CostInputs = {
    config: resolveSearchConfig({ preset: 'quick', maxEvaluations: 6, population: 6 }),
    epochs: 3,
    stepsPerEpoch: 20,
    workers: 2,
    cores: 1,
    maxMinutes: 0,
    secondsPerStep: 2,
    startupSeconds: 5,
    valCases: 4,
    params: 1000,
    cases: 10,
    voxelsPerCase: 100,
  };

  it('adds start-up, training steps and validation, spread over the workers', () => {
    expect(plannedEvaluations(inputs.config)).toBe(6);
    const cost = estimateCost(inputs);
    // An epoch: 2 s x (20 steps + half a step for each of 4 validation cases) = 44 s; three of them.
    expect(cost.limitedByTime).toBe(false);
    expect(cost.secondsPerCandidate).toBe(5 + 3 * 44);
    // Two workers on one core: three rounds of two candidates, each running at half speed.
    expect(cost.totalSeconds).toBe(3 * 137 * 2);
    // Float32 weights and 64 KiB of files per candidate, plus the cache's 8 bytes per voxel.
    expect(cost.diskBytes).toBe(6 * (1000 * 4 + 64 * 1024) + 10 * 100 * 8);
    expect(cost.candidates).toBe(6);
  });

  it('lets the time limit per candidate decide when training would outlast it', () => {
    const cost = estimateCost({ ...inputs, maxMinutes: 1, workers: 1 });
    expect(cost.limitedByTime).toBe(true);
    expect(cost.secondsPerCandidate).toBe(5 + 60);
    expect(cost.totalSeconds).toBe(6 * 65);
  });
});
