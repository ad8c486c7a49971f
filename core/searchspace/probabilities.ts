// Runs in: any process. The per-gene value probabilities that drive mutation and the out-of-memory
// repair (uniform at first; SaMEA learns them in its exploitation phase).
import { GENE_SIZES, RESTRICTED_OP_COUNT } from './genome.ts';

export interface ValueProbabilities {
  /** One vector per gene, over all of that gene's values. */
  genes: number[][];
  /** One vector per op gene (op1..op4) over the first seven ops, used by the repair. */
  restrictedOps: number[][];
}

export function uniformProbabilities(): ValueProbabilities {
  return {
    genes: GENE_SIZES.map((n) => new Array<number>(n).fill(1 / n)),
    restrictedOps: [0, 1, 2, 3].map(() =>
      new Array<number>(RESTRICTED_OP_COUNT).fill(1 / RESTRICTED_OP_COUNT),
    ),
  };
}
