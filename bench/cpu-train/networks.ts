// Runs in: the CPU training benchmark's processes. The two networks it times, shared by the tfjs child
// and (through the parent's arguments) the PyTorch twin, so both sides train the same thing.

import { BUILTIN_GENOMES } from '../../core/nn/builtin-genomes.ts';
import type { Genome } from '../../core/searchspace/genome.ts';

export type NetworkName = 'small' | 'candidate';

/** (a) Two 3x3x3 convolutions of 16 filters with ReLU, a 1x1x1 head, softmax cross-entropy: 1.43 GFLOP a step. */
export const SMALL_NETWORK = {
  batch: 2,
  shape: [32, 32, 16] as [number, number, number],
  filters: 16,
  classes: 2,
};

/** (b) The prostate genome of method.md section 8 scaled down to 8 first-layer filters and 5 cells. */
export const CANDIDATE_NETWORK = {
  batch: 2,
  shape: [48, 64, 48] as [number, number, number],
  classes: 3,
};

export function candidateGenome(): Genome {
  return { ...BUILTIN_GENOMES.prostate, filters: 8, cells: 5 };
}
