// Runs in: any process. The variation operators of method.md section 4.4 on index vectors: uniform
// crossover, mutation driven by per-gene probability vectors, and the out-of-memory repair.
import type { RandomStream } from '../base/random.ts';
import { FIRST_OP_GENE, GENE_SIZES, RESTRICTED_OP_COUNT, type GeneIndices } from './genome.ts';
import { isRestricted } from './encoding.ts';
import type { ValueProbabilities } from './probabilities.ts';

/** Each gene from the first parent with probability 0.5, else from the second. */
export function uniformCrossover(a: GeneIndices, b: GeneIndices, rng: RandomStream): number[] {
  return a.map((value, gene) => (rng.next() < 0.5 ? value : (b[gene] as number)));
}

/**
 * Redraws from `weights` until the value differs from `current`. Callers guarantee some other value has
 * a positive weight (selection probabilities always keep a floor), so the loop ends.
 */
export function redrawDifferent(current: number, weights: readonly number[], rng: RandomStream): number {
  let value = current;
  while (value === current) value = rng.weighted(weights);
  return value;
}

/** Each gene, with probability `rate`, redrawn from its probability vector until it differs. */
export function mutate(
  indices: GeneIndices,
  rate: number,
  probabilities: ValueProbabilities,
  rng: RandomStream,
): number[] {
  return indices.map((value, gene) => {
    if (rng.next() >= rate) return value;
    return redrawDifferent(value, probabilities.genes[gene] ?? [], rng);
  });
}

/** With 32 filters and 9 cells, every op outside the first seven is redrawn from the 7-op probabilities. */
export function repairOutOfMemory(
  indices: GeneIndices,
  probabilities: ValueProbabilities,
  rng: RandomStream,
): number[] {
  const out = [...indices];
  if (!isRestricted(out[1] ?? -1, out[2] ?? -1)) return out;
  for (let gene = FIRST_OP_GENE; gene < GENE_SIZES.length; gene++) {
    if ((out[gene] as number) >= RESTRICTED_OP_COUNT) {
      out[gene] = rng.weighted(probabilities.restrictedOps[gene - FIRST_OP_GENE] ?? []);
    }
  }
  return out;
}
