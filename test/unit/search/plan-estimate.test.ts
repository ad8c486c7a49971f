// The arithmetic on a search configuration (core/search/plan.ts) and the wizard's estimate built on it
// (core/search/estimate.ts), checked against numbers worked out by hand, and the parameter count its disk
// is priced at, against the search space and bounds.
import { describe, expect, it } from 'vitest';
import { RandomStream } from '../../../core/base/random.ts';
import { countParams } from '../../../core/nn/param-count.ts';
import { sizeCheck } from '../../../core/nn/size-check.ts';
import { resolveSearchConfig } from '../../../core/search/config.ts';
import {
  estimateCost,
  meanCandidateParams,
  PARAM_SAMPLE_SIZE,
  validationSteps,
  type CostInputs,
  type ValidationWork,
} from '../../../core/search/estimate.ts';
import {
  evaluationPlan,
  generationSize,
  plannedEvaluations,
  withEvaluationOrder,
} from '../../../core/search/plan.ts';
import { decode } from '../../../core/searchspace/encoding.ts';
import { cachedParamCounter } from '../../../core/searchspace/param-counter.ts';
import { latinHypercubeSample } from '../../../core/searchspace/sampling.ts';

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
    validation: { protocol: 'emonas', cases: 4 },
    paramsPerCandidate: 1000,
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
    // Float32 weights and 64 KiB of files per candidate, a checkpoint (weights and Adam's two moments) for
    // each of the two candidates in training, and the cache's float32 image and uint8 labels per voxel.
    expect(cost.diskBytes).toBe(6 * (1000 * 4 + 64 * 1024) + 2 * 1000 * 12 + 10 * 100 * 5);
    expect(cost.candidates).toBe(6);
  });

  it('lets the time limit per candidate decide when training would outlast it', () => {
    const cost = estimateCost({ ...inputs, maxMinutes: 1, workers: 1 });
    expect(cost.limitedByTime).toBe(true);
    expect(cost.secondsPerCandidate).toBe(5 + 60);
    expect(cost.totalSeconds).toBe(6 * 65);
  });

  it("prices the reference protocol's validation by its batches of slabs, forward passes only", () => {
    // 4 volumes of 4 slabs in batches of 2: 8 forward passes, a third of a training step each.
    const slabs: ValidationWork = { protocol: 'reference', slabs: 16, batchSize: 2 };
    expect(validationSteps(slabs)).toBeCloseTo(8 / 3, 12);
    // A last batch that is not full is still a pass.
    expect(validationSteps({ ...slabs, slabs: 17 })).toBeCloseTo(9 / 3, 12);
    const cost = estimateCost({ ...inputs, validation: slabs });
    expect(cost.secondsPerCandidate).toBeCloseTo(5 + 3 * 2 * (20 + 8 / 3), 9);
    // More validation volumes cost more under either protocol.
    expect(validationSteps({ protocol: 'emonas', cases: 8 })).toBeGreaterThan(
      validationSteps({ protocol: 'emonas', cases: 4 }),
    );
    expect(validationSteps({ ...slabs, slabs: 40 })).toBeGreaterThan(validationSteps(slabs));
  });
});

describe('the parameter count disk is priced at', () => {
  const task = { inChannels: 1, classes: 3 };
  const params = cachedParamCounter((genome) => countParams(genome, task));
  const quick = resolveSearchConfig({ preset: 'quick' });
  const bounded = (maxParams: number) => sizeCheck({ maxParams, memory: null }, task);

  it('is the mean over the networks the search draws, and the same every time', () => {
    const open = meanCandidateParams(quick, null, params);
    expect(meanCandidateParams(quick, null, params)).toBe(open);
    // The same Latin hypercube SaMEA starts from, with the estimate's fixed seed.
    const drawn = latinHypercubeSample(PARAM_SAMPLE_SIZE, RandomStream.fromSeed(0, 'estimate'));
    expect(drawn).toHaveLength(PARAM_SAMPLE_SIZE);
    const mean = drawn.reduce((sum, x) => sum + params(decode(x)), 0) / drawn.length;
    expect(open).toBe(mean);
  });

  it('follows the bound: a tighter maxParams prices every candidate smaller', () => {
    const open = meanCandidateParams(quick, null, params);
    const loose = meanCandidateParams(quick, bounded(1_500_000), params);
    const tight = meanCandidateParams(quick, bounded(500_000), params);
    expect(loose).toBeLessThan(open);
    expect(tight).toBeLessThan(loose);
    expect(tight).toBeLessThanOrEqual(500_000);
    expect(loose).toBeLessThanOrEqual(1_500_000);
    const disk = (paramsPerCandidate: number) =>
      estimateCost({
        config: quick,
        epochs: 1,
        stepsPerEpoch: 1,
        workers: 1,
        cores: 1,
        maxMinutes: 0,
        secondsPerStep: 1,
        startupSeconds: 0,
        validation: { protocol: 'emonas', cases: 1 },
        paramsPerCandidate,
        cases: 1,
        voxelsPerCase: 1,
      }).diskBytes;
    expect(disk(tight)).toBeLessThan(disk(loose));
  });

  it("draws a random search's networks uniformly within the bound", () => {
    const random = resolveSearchConfig({ algorithm: 'random' });
    expect(random.algorithm).toBe('random');
    const tight = meanCandidateParams(random, bounded(500_000), params);
    expect(tight).toBeLessThanOrEqual(500_000);
    expect(tight).toBeLessThan(meanCandidateParams(random, null, params));
  });
});
