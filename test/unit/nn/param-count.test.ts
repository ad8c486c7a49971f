import { beforeAll, describe, expect, it } from 'vitest';
import { buildModel } from '../../../core/nn/build-model.ts';
import { BUILTIN_GENOMES } from '../../../core/nn/builtin-genomes.ts';
import { countParams } from '../../../core/nn/param-count.ts';
import type { Genome, OpName } from '../../../core/searchspace/genome.ts';
import { useCpuBackend } from './cpu-backend.ts';

const genome = (
  filters: Genome['filters'],
  cells: Genome['cells'],
  inputs: Genome['inputs'],
  ops: OpName[],
): Genome => ({
  learningRate: 3e-4,
  filters,
  cells,
  inputs,
  ops: ops as Genome['ops'],
});
const all = (op: OpName): OpName[] => [op, op, op, op];

// method.md section 2.7, one-class sigmoid head, one input channel.
const ROWS: [string, Genome, number][] = [
  ['smallest: NF1 8, 5 cells, all identity', genome(8, 5, [0, 0, 0], all('identity')), 5_153],
  ['largest: NF1 16, 9 cells, all conv3d_5x5x5', genome(16, 9, [1, 2, 3], all('conv3d_5x5x5')), 49_441_377],
  [
    'released PROMISE12',
    genome(32, 7, [1, 0, 2], ['convP3d_3x3', 'conv3d_3x3x3', 'conv2d_5x5', 'conv3d_1x1x1']),
    5_944_353,
  ],
  ['conv3d_3x3x3, NF1 8, 5 cells', genome(8, 5, [1, 2, 3], all('conv3d_3x3x3')), 168_129],
  ['conv3d_3x3x3, NF1 8, 7 cells', genome(8, 7, [1, 2, 3], all('conv3d_3x3x3')), 682_593],
  ['conv3d_3x3x3, NF1 8, 9 cells', genome(8, 9, [1, 2, 3], all('conv3d_3x3x3')), 2_739_617],
  ['conv3d_3x3x3, NF1 16, 5 cells', genome(16, 5, [1, 2, 3], all('conv3d_3x3x3')), 671_361],
  ['conv3d_3x3x3, NF1 16, 7 cells', genome(16, 7, [1, 2, 3], all('conv3d_3x3x3')), 2_728_385],
  ['conv3d_3x3x3, NF1 16, 9 cells', genome(16, 9, [1, 2, 3], all('conv3d_3x3x3')), 10_954_817],
  ['conv3d_3x3x3, NF1 32, 5 cells', genome(32, 5, [1, 2, 3], all('conv3d_3x3x3')), 2_683_137],
  ['conv3d_3x3x3, NF1 32, 7 cells', genome(32, 7, [1, 2, 3], all('conv3d_3x3x3')), 10_909_569],
  ['conv3d_3x3x3, NF1 32, 9 cells', genome(32, 9, [1, 2, 3], all('conv3d_3x3x3')), 43_811_969],
];

const ONE_CLASS = { inChannels: 1, classes: 1 };

describe('countParams (closed form) against method.md section 2.7', () => {
  it.each(ROWS)('%s', (_name, g, expected) => {
    expect(countParams(g, ONE_CLASS)).toBe(expected);
  });

  it('gives ln(params) of the smallest and largest rows as the normalisation bounds', () => {
    expect(Math.log(countParams(ROWS[0]![1], ONE_CLASS))).toBeCloseTo(8.5473, 4);
    expect(Math.log(countParams(ROWS[1]![1], ONE_CLASS))).toBeCloseTo(17.7163, 4);
  });

  it('rebuilds the built-in prostate genome at exactly 5,944,353 parameters', () => {
    expect(countParams(BUILTIN_GENOMES.prostate, ONE_CLASS)).toBe(5_944_353);
  });

  it('grows by (NF1 + 1) per extra head class and by the stem for extra input channels', () => {
    const g = BUILTIN_GENOMES.prostate;
    expect(countParams(g, { inChannels: 1, classes: 3 }) - countParams(g, ONE_CLASS)).toBe(2 * (32 + 1));
    // Stem op1 = convP3d_3x3: only its first (3x3x1) conv sees the input channels.
    expect(countParams(g, { inChannels: 2, classes: 1 }) - countParams(g, ONE_CLASS)).toBe(9 * 32);
  });

  it('rejects a genome it cannot build with a sentence naming the problem', () => {
    expect(() => countParams(genome(8, 5, [2, 0, 0], all('identity')), ONE_CLASS)).toThrow(
      /node 2 reads node 2/,
    );
    expect(() =>
      countParams({ ...genome(8, 5, [0, 0, 0], all('identity')), cells: 6 as 5 }, ONE_CLASS),
    ).toThrow(/5, 7 or 9/);
    expect(() =>
      countParams(genome(8, 5, [0, 0, 0], all('identity')), { inChannels: 3, classes: 1 }),
    ).toThrow(/multiple of 3/);
    expect(() =>
      countParams(genome(8, 5, [0, 0, 0], all('identity')), { inChannels: 1, classes: 0 }),
    ).toThrow(/at least 1 output classes/);
  });
});

describe('countParams against model.countParams() of the built network', () => {
  beforeAll(useCpuBackend);

  // The two biggest rows take about a second each to initialise; the count does not depend on the patch.
  it.each(ROWS)('%s', (_name, g, expected) => {
    const model = buildModel(g, { inputShape: [16, 16, 16, 1], classes: 1, head: 'sigmoid', seed: 1 });
    try {
      expect(model.countParams()).toBe(expected);
    } finally {
      model.dispose();
    }
  });

  it('builds the built-in prostate genome with a one-class sigmoid head at exactly 5,944,353 parameters', () => {
    const model = buildModel(BUILTIN_GENOMES.prostate, {
      inputShape: [16, 16, 16, 1],
      classes: 1,
      head: 'sigmoid',
      seed: 1,
    });
    try {
      expect(model.countParams()).toBe(5_944_353);
    } finally {
      model.dispose();
    }
  });

  it.each([
    ['prostate', 3, 2],
    ['hippocampus', 3, 1],
    ['cardiac', 4, 1],
    ['small', 3, 4],
  ] as const)(
    'agrees for the built-in %s genome with a %i-class softmax head and %i input channels',
    (name, classes, channels) => {
      const g = BUILTIN_GENOMES[name];
      const model = buildModel(g, { inputShape: [16, 16, 16, channels], classes, head: 'softmax', seed: 2 });
      try {
        expect(model.countParams()).toBe(countParams(g, { inChannels: channels, classes }));
      } finally {
        model.dispose();
      }
    },
  );
});
