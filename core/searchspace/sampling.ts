// Runs in: any process. Initial samples of the search space: a per-gene Latin hypercube (one stratum per
// individual for each gene, the fix of method.md section 9 item 1) and uniform random genomes.
import type { RandomStream } from '../base/random.ts';
import { FIRST_OP_GENE, GENE_SIZES } from './genome.ts';
import { allowedValues } from './encoding.ts';

/**
 * An n x genes matrix of uniforms in [0, 1): for every gene (column) the n values fall one in each of
 * the n equal strata, in random order. Draws gene by gene, a permutation then n jitters.
 */
export function latinHypercubeUniforms(n: number, genes: number, rng: RandomStream): number[][] {
  const rows = Array.from({ length: n }, () => new Array<number>(genes).fill(0));
  for (let gene = 0; gene < genes; gene++) {
    const strata = rng.shuffle(Array.from({ length: n }, (_, i) => i));
    for (let i = 0; i < n; i++) {
      (rows[i] as number[])[gene] = ((strata[i] as number) + rng.next()) / n;
    }
  }
  return rows;
}

/**
 * The category whose cumulative uniform share first reaches u (the reference's bisect-left over
 * [1/n, 2/n, ..., 1]).
 */
export function categoryOf(u: number, n: number): number {
  return Math.min(n - 1, Math.max(0, Math.ceil(u * n) - 1));
}

/**
 * n genomes from a per-gene Latin hypercube. The op genes of a (32 filters, 9 cells) genome are mapped
 * onto the seven allowed ops, as the reference does.
 */
export function latinHypercubeSample(n: number, rng: RandomStream): number[][] {
  return latinHypercubeUniforms(n, GENE_SIZES.length, rng).map((row) => {
    const indices = row.map((u, gene) => (gene < FIRST_OP_GENE ? categoryOf(u, GENE_SIZES[gene] ?? 1) : 0));
    for (let gene = FIRST_OP_GENE; gene < GENE_SIZES.length; gene++) {
      indices[gene] = categoryOf(row[gene] as number, allowedValues(indices, gene));
    }
    return indices;
  });
}

/** A uniformly random valid genome: every gene uniform over the values allowed to it. */
export function randomGenome(rng: RandomStream): number[] {
  const indices = new Array<number>(GENE_SIZES.length).fill(0);
  for (let gene = 0; gene < GENE_SIZES.length; gene++) {
    indices[gene] = rng.int(allowedValues(indices, gene));
  }
  return indices;
}
