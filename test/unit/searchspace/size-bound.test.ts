import { describe, expect, it } from 'vitest';
import { RandomStream } from '../../../core/base/random.ts';
import { countParams } from '../../../core/nn/param-count.ts';
import { sizeCheck } from '../../../core/nn/size-check.ts';
import { decode, encode, genomeKey, validateIndices } from '../../../core/searchspace/encoding.ts';
import { cachedParamCounter } from '../../../core/searchspace/param-counter.ts';
import { latinHypercubeSample, randomGenome } from '../../../core/searchspace/sampling.ts';
import {
  checkBoundFeasible,
  drawWithinBound,
  repairToBound,
  type SizeBound,
  type SizeCheck,
} from '../../../core/searchspace/size-bound.ts';
import { uniformProbabilities } from '../../../core/searchspace/probabilities.ts';
import { mutate, repairOutOfMemory, uniformCrossover } from '../../../core/searchspace/variation.ts';

const TASK = { inChannels: 1, classes: 1 };
const params = cachedParamCounter((g) => countParams(g, TASK));
const size = (x: readonly number[]): number => params(decode(x));

function checkFor(bound: Partial<SizeBound>): SizeCheck {
  const check = sizeCheck({ maxParams: null, memory: null, ...bound }, TASK);
  if (check === null) throw new Error('the test bound bounds nothing');
  return check;
}

const fits = (x: readonly number[], check: SizeCheck): boolean => check(decode(x)) === null;

/** Learning rate and node inputs: the genes a repair never touches. */
const untouched = (x: readonly number[]): number[] => [x[0], x[3], x[4], x[5]] as number[];

const ALL_3X3X3 = ['conv3d_3x3x3', 'conv3d_3x3x3', 'conv3d_3x3x3', 'conv3d_3x3x3'] as const;

describe('the size check', () => {
  it('bounds nothing without a limit, and says which limit a genome breaks', () => {
    expect(sizeCheck({ maxParams: null, memory: null }, TASK)).toBeNull();
    const genome = decode(
      encode({ learningRate: 1e-3, filters: 8, cells: 9, inputs: [1, 2, 3], ops: [...ALL_3X3X3] }),
    );
    expect(countParams(genome, TASK)).toBe(2_739_617);
    expect(checkFor({ maxParams: 2_739_617 })(genome)).toBeNull();
    expect(checkFor({ maxParams: 2_739_616 })(genome)).toBe(
      "has 2,739,617 parameters, more than the search's bound of 2,739,616 (maxParams)",
    );
    const memory = checkFor({ memory: { budgetBytes: 2 ** 20, patch: [32, 48, 32], batch: 2 } })(genome);
    expect(memory).toMatch(
      /^needs about [\d,]+ MB to train on a batch of 2 32x48x32 patch\(es\), more than the search's 1 MB memory budget$/,
    );
  });
});

describe('the size-bound repair', () => {
  it('leaves a genome within the bound as it is', () => {
    const check = checkFor({ maxParams: 3_000_000 });
    const x = encode({ learningRate: 4e-4, filters: 8, cells: 9, inputs: [1, 2, 3], ops: [...ALL_3X3X3] });
    expect(fits(x, check)).toBe(true);
    expect(repairToBound(x, check, params)).toEqual(x);
  });

  it('takes filters or cells down one notch, keeping the larger network that fits', () => {
    const x = encode({ learningRate: 4e-4, filters: 32, cells: 7, inputs: [1, 2, 3], ops: [...ALL_3X3X3] });
    expect(size(x)).toBe(10_909_569);
    // One notch down: 16 filters (2,728,385 parameters) or 5 cells (2,683,137).
    const both = repairToBound(x, checkFor({ maxParams: 3_000_000 }), params);
    expect(decode(both)).toEqual({ ...decode(x), filters: 16 });
    expect(size(both)).toBe(2_728_385);
    const cellsOnly = repairToBound(x, checkFor({ maxParams: 2_700_000 }), params);
    expect(decode(cellsOnly)).toEqual({ ...decode(x), cells: 5 });
    expect(size(cellsOnly)).toBe(2_683_137);
  });

  it('takes as few notches as fit, and only cells once the filters are at 8', () => {
    const x = encode({ learningRate: 4e-4, filters: 8, cells: 9, inputs: [1, 2, 3], ops: [...ALL_3X3X3] });
    expect(fits(x, checkFor({ maxParams: 1_000_000 }))).toBe(false);
    expect(decode(repairToBound(x, checkFor({ maxParams: 1_000_000 }), params))).toEqual({
      ...decode(x),
      cells: 7,
    });
    const big = encode({ learningRate: 4e-4, filters: 32, cells: 9, inputs: [1, 2, 3], ops: [...ALL_3X3X3] });
    // One notch down (about 10.9M parameters) is too many; of the two-notch networks (8 filters: 2,739,617;
    // 16 filters and 7 cells: 2,728,385; 5 cells: 2,683,137) the largest is kept.
    expect(decode(repairToBound(big, checkFor({ maxParams: 3_000_000 }), params))).toEqual({
      ...decode(big),
      filters: 8,
    });
  });

  it('then makes the costliest op cheaper, one notch at a time', () => {
    const check = checkFor({ maxParams: 150_000 });
    const x = encode({
      learningRate: 1e-4,
      filters: 8,
      cells: 5,
      inputs: [0, 1, 2],
      ops: ['conv3d_1x1x1', 'conv3d_5x5x5', 'conv2d_3x3', 'conv3d_3x3x3'],
    });
    expect(size(x)).toBeGreaterThan(150_000);
    const repaired = repairToBound(x, check, params);
    expect(fits(repaired, check)).toBe(true);
    // Only the 5x5x5 op, the costliest, had to change; it became the most expensive op that fits.
    expect(repaired.slice(0, 6)).toEqual(x.slice(0, 6));
    expect(repaired.slice(6).filter((op, k) => op !== x[6 + k])).toHaveLength(1);
    expect(repaired[7]).not.toBe(x[7]);
    const swapped = Array.from({ length: 10 }, (_, op) => [...x.slice(0, 7), op, ...x.slice(8)]);
    const fitting = swapped.filter((y) => fits(y, check)).map(size);
    expect(fitting.length).toBeGreaterThan(1);
    expect(size(repaired)).toBe(Math.max(...fitting));
  });

  it('brings any genome within a bound, changing only filters, cells and ops, the same way every time', () => {
    const rng = RandomStream.fromSeed(3);
    for (const maxParams of [20_000, 150_000, 1_500_000]) {
      const check = checkFor({ maxParams });
      let repairedCount = 0;
      for (let i = 0; i < 150; i++) {
        const x = randomGenome(rng);
        const repaired = repairToBound(x, check, params);
        expect(validateIndices(repaired)).toEqual(repaired);
        expect(fits(repaired, check)).toBe(true);
        expect(untouched(repaired)).toEqual(untouched(x));
        expect(repairToBound(x, check, params)).toEqual(repaired);
        expect(repairToBound(repaired, check, params)).toEqual(repaired);
        if (!fits(x, check)) {
          repairedCount++;
          expect(size(repaired)).toBeLessThan(size(x));
        } else {
          expect(repaired).toEqual(x);
        }
      }
      // Precondition of the loop's point: the bound actually bit.
      expect(repairedCount).toBeGreaterThan(10);
    }
  });

  it('repairs against the memory budget as well', () => {
    const memory = { budgetBytes: 64 * 2 ** 20, patch: [32, 48, 32] as [number, number, number], batch: 2 };
    const check = checkFor({ memory });
    const x = encode({ learningRate: 4e-4, filters: 32, cells: 9, inputs: [1, 2, 3], ops: [...ALL_3X3X3] });
    expect(check(decode(x))).toMatch(/memory budget/);
    const repaired = repairToBound(x, check, params);
    expect(check(decode(repaired))).toBeNull();
    expect(untouched(repaired)).toEqual(untouched(x));
  });

  it('repairs what the Latin hypercube, crossover and mutation produce', () => {
    const check = checkFor({ maxParams: 200_000 });
    const rng = RandomStream.fromSeed(8);
    const sample = latinHypercubeSample(10, rng);
    const children = sample
      .slice(1)
      .map((x, i) =>
        repairOutOfMemory(
          mutate(uniformCrossover(sample[i] as number[], x, rng), 0.5, uniformProbabilities(), rng),
          uniformProbabilities(),
          rng,
        ),
      );
    const all = [...sample, ...children];
    expect(all.filter((x) => !fits(x, check)).length).toBeGreaterThan(3);
    for (const x of all) expect(fits(repairToBound(x, check, params), check)).toBe(true);
  });

  it('refuses a bound that not even the smallest network meets, naming the limit', () => {
    expect(() => checkBoundFeasible(checkFor({ maxParams: 1_000_000 }))).not.toThrow();
    expect(() => checkBoundFeasible(checkFor({ maxParams: 5_000 }))).toThrow(
      /No network of the search space is within this search's size bound: even the smallest .* has 5,153 parameters, more than the search's bound of 5,000 \(maxParams\)\. Raise maxParams/,
    );
  });
});

describe('drawing within the bound', () => {
  it('draws again while a draw breaks the bound, and counts the rejected draws', () => {
    const check = checkFor({ maxParams: 100_000 });
    const big = encode({ learningRate: 1e-3, filters: 32, cells: 9, inputs: [1, 2, 3], ops: [...ALL_3X3X3] });
    const small = encode({
      learningRate: 1e-3,
      filters: 8,
      cells: 5,
      inputs: [0, 0, 0],
      ops: ['identity', 'conv3d_1x1x1', 'identity', 'identity'],
    });
    expect([fits(big, check), fits(small, check)]).toEqual([false, true]);
    const draws = [big, big, small, big];
    let next = 0;
    const result = drawWithinBound(() => draws[next++] as number[], check, params);
    expect(result).toEqual({ indices: small, rejected: 2 });
    expect(next).toBe(3);
  });

  it('keeps a random draw uniform over the genomes that fit', () => {
    const check = checkFor({ maxParams: 150_000 });
    const rng = RandomStream.fromSeed(4);
    const seen = new Set<string>();
    let rejected = 0;
    for (let i = 0; i < 200; i++) {
      const draw = drawWithinBound(() => randomGenome(rng), check, params);
      expect(fits(draw.indices, check)).toBe(true);
      seen.add(genomeKey(draw.indices));
      rejected += draw.rejected;
    }
    expect(rejected).toBeGreaterThan(0);
    expect(seen.size).toBeGreaterThan(190);
  });
});
