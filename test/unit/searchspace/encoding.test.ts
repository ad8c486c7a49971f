import { describe, expect, it } from 'vitest';
import { RandomStream } from '../../../core/base/random.ts';
import { EmonasError } from '../../../core/base/errors.ts';
import {
  decode,
  encode,
  functionalKey,
  genomeKey,
  isRestricted,
  validateIndices,
} from '../../../core/searchspace/encoding.ts';
import { GENE_SIZES, LEARNING_RATES } from '../../../core/searchspace/genome.ts';
import { randomGenome } from '../../../core/searchspace/sampling.ts';

function thrown(run: () => unknown): EmonasError {
  try {
    run();
  } catch (err) {
    return err as EmonasError;
  }
  throw new Error('expected an error');
}

describe('genome encoding', () => {
  it('decodes the reference order and value order', () => {
    // The released PROMISE12 genotype: lr 3e-4, NF1 32, 7 cells, inputs (1, 0, 2),
    // ops (convP3d_3x3, conv3d_3x3x3, conv2d_5x5, conv3d_1x1x1).
    expect(decode([7, 0, 1, 1, 0, 2, 4, 1, 3, 0])).toEqual({
      learningRate: 3e-4,
      filters: 32,
      cells: 7,
      inputs: [1, 0, 2],
      ops: ['convP3d_3x3', 'conv3d_3x3x3', 'conv2d_5x5', 'conv3d_1x1x1'],
    });
    expect(LEARNING_RATES).toHaveLength(19);
    expect(GENE_SIZES).toEqual([19, 3, 3, 2, 3, 4, 10, 10, 10, 10]);
  });

  it('round-trips random valid genomes', () => {
    const rng = RandomStream.fromSeed(1);
    for (let i = 0; i < 500; i++) {
      const x = randomGenome(rng);
      expect(encode(decode(x))).toEqual(x);
    }
  });

  it('restricts ops to the first seven only with 32 filters and 9 cells', () => {
    expect(isRestricted(0, 0)).toBe(true);
    expect(isRestricted(0, 1)).toBe(false);
    expect(isRestricted(1, 0)).toBe(false);
    const err = thrown(() => validateIndices([0, 0, 0, 0, 0, 0, 1, 7, 1, 1], 'genome.json'));
    expect(err.code).toBe('invalid_genome');
    expect(err.message).toContain('conv3d_5x5x5');
    expect(err.message).toContain('32 filters and 9 cells');
    expect(err.file).toBe('genome.json');
    expect(validateIndices([0, 1, 0, 0, 0, 0, 7, 8, 9, 7])).toHaveLength(10);
  });

  it('explains malformed index vectors', () => {
    expect(thrown(() => validateIndices([1, 2, 3])).message).toContain('10 whole numbers');
    expect(thrown(() => validateIndices([19, 0, 0, 0, 0, 0, 0, 0, 0, 0])).message).toContain('learningRate');
    expect(thrown(() => validateIndices([0, 0, 0, 2, 0, 0, 0, 0, 0, 0])).message).toContain('node2Input');
    expect(thrown(() => validateIndices([0, 0, 0, 0, 0, 0.5, 0, 0, 0, 0])).message).toContain('node4Input');
  });

  it('keys genomes by their index vector', () => {
    expect(genomeKey([1, 2, 3])).not.toBe(genomeKey([12, 3]));
    expect(genomeKey([7, 0, 1, 1, 0, 2, 4, 1, 3, 0])).toBe(genomeKey([7, 0, 1, 1, 0, 2, 4, 1, 3, 0]));
  });
});

describe('functional-equivalence key', () => {
  const key = (inputs: [number, number, number], ops: number[], lr = 0): string =>
    functionalKey([lr, 1, 1, ...inputs, ...ops]);

  it('equates swapped siblings, since the cell sums its nodes', () => {
    // node2 and node3 both read node 1 with ops A and B, or B and A.
    expect(key([1, 1, 0], [1, 2, 4, 0])).toBe(key([1, 1, 0], [1, 4, 2, 0]));
  });

  it('sees an identity node reading another node as an alias of that node', () => {
    // node2 = identity(node1), node3 reads node2 -> the same as node3 reading node1 with node2 an alias.
    expect(key([1, 2, 0], [1, 6, 4, 0])).toBe(key([1, 1, 0], [1, 6, 4, 0]));
  });

  it('keeps genomes apart that compute different functions', () => {
    expect(key([1, 1, 0], [1, 2, 4, 0])).not.toBe(key([1, 2, 0], [1, 2, 4, 0]));
    // identity on the cell input replicates channels in down cells: not an alias.
    expect(key([0, 1, 0], [1, 6, 4, 0])).not.toBe(key([1, 1, 0], [1, 6, 4, 0]));
    // the stem takes op1's type, so op1 matters on its own.
    expect(key([0, 0, 0], [1, 2, 3, 4])).not.toBe(key([0, 0, 0], [2, 1, 3, 4]));
    expect(key([1, 1, 0], [1, 2, 4, 0], 0)).not.toBe(key([1, 1, 0], [1, 2, 4, 0], 1));
    // weight sharing differs: two nodes reading node 1 versus one reading node 1 and one reading node 2.
    expect(key([0, 1, 2], [1, 1, 2, 2])).not.toBe(key([0, 1, 1], [1, 1, 2, 2]));
  });
});
