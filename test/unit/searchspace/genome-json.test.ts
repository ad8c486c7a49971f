import { describe, expect, it } from 'vitest';
import { EmonasError } from '../../../core/base/errors.ts';
import { genomeToJson, parseGenome } from '../../../core/searchspace/genome-json.ts';

const HIPPOCAMPUS = {
  learningRate: 4e-4,
  filters: 32,
  cells: 7,
  inputs: [0, 1, 1],
  ops: ['conv3d_3x3x3', 'convP3d_3x3', 'convP3d_3x3', 'conv2d_5x5'],
};

function message(value: unknown): string {
  try {
    parseGenome(value, '/runs/x/genome.json');
  } catch (err) {
    expect(err).toBeInstanceOf(EmonasError);
    expect((err as EmonasError).code).toBe('invalid_genome');
    expect((err as EmonasError).file).toBe('/runs/x/genome.json');
    return (err as EmonasError).message;
  }
  throw new Error('expected parseGenome to refuse');
}

describe('parseGenome', () => {
  it('accepts the documented example and round-trips it', () => {
    const genome = parseGenome(JSON.parse(JSON.stringify(HIPPOCAMPUS)));
    expect(genome).toEqual(HIPPOCAMPUS);
    expect(genomeToJson(genome)).toEqual(HIPPOCAMPUS);
  });

  it('snaps a learning rate written with rounding noise to the listed value', () => {
    expect(parseGenome({ ...HIPPOCAMPUS, learningRate: 0.00040000000001 }).learningRate).toBe(4e-4);
  });

  it('explains each broken rule', () => {
    expect(message([1, 2])).toContain('JSON object');
    expect(message({ ...HIPPOCAMPUS, lr: 1 })).toContain('unknown field lr');
    const { ops: _ops, ...noOps } = HIPPOCAMPUS;
    expect(message(noOps)).toContain('lacks ops');
    expect(message({ ...HIPPOCAMPUS, learningRate: 0.01 })).toContain('not in the search space');
    expect(message({ ...HIPPOCAMPUS, filters: 64 })).toContain('32, 16, 8');
    expect(message({ ...HIPPOCAMPUS, cells: 6 })).toContain('9, 7, 5');
    expect(message({ ...HIPPOCAMPUS, inputs: [0, 3, 1] })).toContain('node 3');
    expect(message({ ...HIPPOCAMPUS, inputs: [0, 1] })).toContain('nodes 2, 3 and 4');
    expect(message({ ...HIPPOCAMPUS, ops: ['conv3d_3x3x3', 'conv4d', 'identity', 'identity'] })).toContain(
      'ops[1] "conv4d"',
    );
    expect(
      message({ ...HIPPOCAMPUS, cells: 9, ops: ['conv2d_7x7', 'identity', 'identity', 'identity'] }),
    ).toContain('not allowed with 32 filters and 9 cells');
  });
});
