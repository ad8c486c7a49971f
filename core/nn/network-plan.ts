// Runs in: any process. The shape of the network a genome describes (method.md sections 2.2-2.4): levels,
// filters and the channels each cell receives, after checking the genome can be built at all. No tfjs here,
// so the search can reason about networks without loading it.

import { EmonasError } from '../base/errors.ts';
import { OPS } from '../searchspace/genome.ts';
import type { Genome, OpName } from '../searchspace/genome.ts';

export interface CellPlan {
  /** Position in build order: 0 is the first full-resolution cell, the last one feeds the head. */
  index: number;
  /** The cell works at 1 / 2^level of the patch size. */
  level: number;
  filters: number;
  /** Channels of node 0: half the filters right after a max-pool, the filters everywhere else. */
  inChannels: number;
}

export interface NetworkPlan {
  /** Number of max-pools, nd = (cells - 1) / 2. */
  depth: number;
  /** F_d = NF1 * 2^d for d = 0 ... depth. */
  levelFilters: number[];
  /** Channels of the image entering the stem. */
  inChannels: number;
  cells: CellPlan[];
  ops: readonly [OpName, OpName, OpName, OpName];
  /** The node each of nodes 1-4 reads; node 1 always reads node 0. */
  nodeInputs: readonly [number, number, number, number];
}

const FILTERS = [8, 16, 32];
const CELLS = [5, 7, 9];

/** Checks that the genome describes a buildable network and lays it out; throws 'invalid_genome'. */
export function planNetwork(genome: Genome, inChannels: number): NetworkPlan {
  checkGenome(genome);
  if (!Number.isInteger(inChannels) || inChannels < 1) {
    throw new EmonasError(
      'invalid_genome',
      `The images have ${String(inChannels)} channels; a network needs a whole number of at least 1.`,
    );
  }
  if (genome.ops[0] === 'identity' && genome.filters % inChannels !== 0) {
    throw new EmonasError(
      'invalid_genome',
      `With identity as operation 1 the stem copies the ${inChannels}-channel image to ${genome.filters} ` +
        `channels, which needs ${genome.filters} to be a multiple of ${inChannels}; choose another first ` +
        'operation or another number of first-layer filters.',
    );
  }
  const depth = (genome.cells - 1) / 2;
  const levelFilters = Array.from({ length: depth + 1 }, (_, d) => genome.filters * 2 ** d);
  const filtersAt = (level: number): number => levelFilters[level] ?? 0;
  const cells: CellPlan[] = [{ index: 0, level: 0, filters: filtersAt(0), inChannels: filtersAt(0) }];
  for (let d = 1; d <= depth; d++) {
    cells.push({ index: cells.length, level: d, filters: filtersAt(d), inChannels: filtersAt(d - 1) });
  }
  for (let d = depth - 1; d >= 0; d--) {
    cells.push({ index: cells.length, level: d, filters: filtersAt(d), inChannels: filtersAt(d) });
  }
  return {
    depth,
    levelFilters,
    inChannels,
    cells,
    ops: genome.ops,
    nodeInputs: [0, genome.inputs[0], genome.inputs[1], genome.inputs[2]],
  };
}

function checkGenome(genome: Genome): void {
  const bad = (what: string): never => {
    throw new EmonasError('invalid_genome', `The genome cannot be built into a network: ${what}.`);
  };
  if (genome === null || typeof genome !== 'object') bad('it is not a genome object');
  if (!FILTERS.includes(genome.filters)) {
    bad(`the first-layer filters are ${String(genome.filters)}, but must be 8, 16 or 32`);
  }
  if (!CELLS.includes(genome.cells))
    bad(`the number of cells is ${String(genome.cells)}, but must be 5, 7 or 9`);
  if (!Array.isArray(genome.inputs) || genome.inputs.length !== 3)
    bad('it needs the inputs of nodes 2, 3 and 4');
  genome.inputs.forEach((input, i) => {
    if (!Number.isInteger(input) || input < 0 || input > i + 1) {
      bad(`node ${i + 2} reads node ${String(input)}, but may only read nodes 0 to ${i + 1}`);
    }
  });
  if (!Array.isArray(genome.ops) || genome.ops.length !== 4) bad('it needs the operations of nodes 1 to 4');
  genome.ops.forEach((op, i) => {
    if (!(OPS as readonly string[]).includes(op)) {
      bad(`node ${i + 1} has the unknown operation "${String(op)}" (known: ${OPS.join(', ')})`);
    }
  });
}
