import { describe, expect, it } from 'vitest';
import { RandomStream } from '../../../core/base/random.ts';
import { kendallTau } from '../../../core/search/kendall.ts';
import type { PredictRequest, SurrogateEngine } from '../../../core/search/protocol.ts';
import { RandomForestSurrogate } from '../../../core/search/surrogate.ts';

/** Genome-like rows (categorical indices and a continuous ln-params column) with a noisy target. */
function data(n: number, rng: RandomStream): { x: number[][]; y: number[] } {
  const x: number[][] = [];
  const y: number[] = [];
  for (let i = 0; i < n; i++) {
    const row = [rng.int(19), rng.int(3), rng.int(10), 8 + 9 * rng.next()];
    x.push(row);
    y.push(
      0.1 * (row[1] as number) + 0.03 * (row[2] as number) - 0.02 * (row[3] as number) + 0.01 * rng.next(),
    );
  }
  return { x, y };
}

function request(
  engine: SurrogateEngine,
  train: { x: number[][]; y: number[] },
  queries: number[][],
  fitKey: string,
): PredictRequest {
  return {
    kind: 'predict',
    generation: 1,
    fitKey,
    ids: queries.map((_, i) => `q${i}`),
    settings: { engine, trees: 40, minSamplesSplit: 5, maxFeatures: 1, seed: 0 },
    train,
    queries,
  };
}

const rng = RandomStream.fromSeed(1);
const train = data(120, rng);
const test = data(60, rng);

describe.each(['ml-random-forest', 'fast-cart'] as const)('random-forest surrogate (%s)', (engine) => {
  it('ranks held-out candidates well and reports the spread over trees', () => {
    const { mean, std } = new RandomForestSurrogate().predict(request(engine, train, test.x, 'a'));
    expect(kendallTau(mean, test.y)).toBeGreaterThan(0.7);
    expect(std.every((s) => s >= 0)).toBe(true);
    expect(Math.max(...std)).toBeGreaterThan(0);
  });

  it('is deterministic for a seed', () => {
    const a = new RandomForestSurrogate().predict(request(engine, train, test.x, 'a'));
    const b = new RandomForestSurrogate().predict(request(engine, train, test.x, 'a'));
    expect(b).toEqual(a);
  });

  it('reuses its last fit for the same training set key and refits for a new one', () => {
    const surrogate = new RandomForestSurrogate();
    const first = surrogate.predict(request(engine, train, test.x, 'rows:120'));
    const flipped = { x: train.x, y: train.y.map((v) => -v) };
    expect(surrogate.predict(request(engine, flipped, test.x, 'rows:120'))).toEqual(first);
    const refit = surrogate.predict(request(engine, flipped, test.x, 'rows:121'));
    expect(refit.mean[0]).toBeCloseTo(-(first.mean[0] as number), 1);
  });
});

describe('the two surrogate engines', () => {
  it('agree on how they rank held-out candidates', () => {
    const a = new RandomForestSurrogate().predict(request('ml-random-forest', train, test.x, 'a'));
    const b = new RandomForestSurrogate().predict(request('fast-cart', train, test.x, 'a'));
    expect(kendallTau(a.mean, b.mean)).toBeGreaterThan(0.8);
  });

  it('fast-cart fits 400 candidates in well under a second', () => {
    const big = data(400, RandomStream.fromSeed(2));
    const started = performance.now();
    new RandomForestSurrogate().predict({
      ...request('fast-cart', big, test.x, 'b'),
      settings: { engine: 'fast-cart', trees: 100, minSamplesSplit: 5, maxFeatures: 1, seed: 0 },
    });
    expect(performance.now() - started).toBeLessThan(1500);
  });
});
