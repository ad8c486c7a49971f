import { describe, expect, it } from 'vitest';
import { RandomStream } from '../../../core/base/random.ts';
import { isRestricted, validateIndices } from '../../../core/searchspace/encoding.ts';
import { GENE_SIZES } from '../../../core/searchspace/genome.ts';
import {
  categoryOf,
  latinHypercubeSample,
  latinHypercubeUniforms,
  randomGenome,
} from '../../../core/searchspace/sampling.ts';

describe('per-gene Latin hypercube', () => {
  it('puts exactly one individual in each stratum of every gene', () => {
    for (const n of [10, 7, 40]) {
      const u = latinHypercubeUniforms(n, 10, RandomStream.fromSeed(n));
      for (let gene = 0; gene < 10; gene++) {
        const strata = u.map((row) => Math.floor((row[gene] as number) * n)).sort((a, b) => a - b);
        expect(strata).toEqual(Array.from({ length: n }, (_, i) => i));
      }
    }
  });

  it('is not the reference transposition: strata hold across individuals, not within one', () => {
    const u = latinHypercubeUniforms(10, 10, RandomStream.fromSeed(3));
    const withinRows = u.filter((row) => new Set(row.map((v) => Math.floor(v * 10))).size === 10).length;
    expect(withinRows).toBeLessThan(10);
  });

  it('maps uniforms to categories by bisect-left over the cumulative shares', () => {
    expect(categoryOf(0, 3)).toBe(0);
    expect(categoryOf(1 / 3, 3)).toBe(0);
    expect(categoryOf(0.34, 3)).toBe(1);
    expect(categoryOf(0.999, 3)).toBe(2);
  });

  it('spreads every gene evenly over its categories', () => {
    const n = 60;
    const sample = latinHypercubeSample(n, RandomStream.fromSeed(9));
    for (let gene = 0; gene < 6; gene++) {
      const size = GENE_SIZES[gene] as number;
      const counts = new Array<number>(size).fill(0);
      for (const x of sample) counts[x[gene] as number]!++;
      // n/size strata-aligned categories: at most one stratum straddles each boundary.
      for (const c of counts) {
        expect(c).toBeGreaterThanOrEqual(Math.floor(n / size) - 1);
        expect(c).toBeLessThanOrEqual(Math.ceil(n / size) + 1);
      }
    }
  });

  it('only yields valid genomes, mapping ops onto seven under the memory restriction', () => {
    let restricted = 0;
    for (let seed = 0; seed < 30; seed++) {
      for (const x of latinHypercubeSample(10, RandomStream.fromSeed(seed))) {
        expect(validateIndices(x)).toEqual(x);
        if (isRestricted(x[1] as number, x[2] as number)) restricted++;
      }
    }
    expect(restricted).toBeGreaterThan(0);
  });
});

describe('randomGenome', () => {
  it('draws valid genomes covering every value', () => {
    const rng = RandomStream.fromSeed(2);
    const seen = GENE_SIZES.map(() => new Set<number>());
    for (let i = 0; i < 3000; i++) {
      const x = randomGenome(rng);
      validateIndices(x);
      x.forEach((v, gene) => seen[gene]!.add(v));
    }
    expect(seen.map((s) => s.size)).toEqual([...GENE_SIZES]);
  });
});
