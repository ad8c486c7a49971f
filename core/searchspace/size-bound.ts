// Runs in: any process. The size bound of a search as a constraint on genomes rather than a failure after
// the fact: the settings a run records (a parameter bound, a training-memory budget for the run's patch and
// batch), the check built from them (core/nn knows the sizes, so the check is injected), and the two ways a
// genome is brought within the bound: a deterministic repair that stays close to it, and redrawing.
import { EmonasError } from '../base/errors.ts';
import { decode } from './encoding.ts';
import {
  CELLS,
  FILTERS,
  FIRST_OP_GENE,
  GENE_SIZES,
  LEARNING_RATES,
  OPS,
  type GeneIndices,
  type Genome,
} from './genome.ts';
import type { ParamCounter } from './param-counter.ts';

/** What a run bounds, as its run.json records it (fixed at the start, so a resumed run repairs alike). */
export interface SizeBound {
  /** Most trainable parameters a candidate may have; null: no bound. */
  maxParams: number | null;
  /** Most memory one training step of `batch` patches of `patch` may need; null: no budget. */
  memory: { budgetBytes: number; patch: [number, number, number]; batch: number } | null;
}

/** null when the genome is within the bound, else a sentence saying which limit it breaks and by how much. */
export type SizeCheck = (genome: Genome) => string | null;

const FILTERS_GENE = 1;
const CELLS_GENE = 2;
const IDENTITY = OPS.indexOf('identity');
/** Redraws before a draw that still breaks the bound is repaired instead, so a draw always ends. */
const MAX_REDRAWS = 1000;

const within = (indices: GeneIndices, check: SizeCheck): boolean => check(decode(indices)) === null;

function withGene(indices: GeneIndices, gene: number, value: number): number[] {
  const out = [...indices];
  out[gene] = value;
  return out;
}

/**
 * The genome itself when it is within the bound; else the closest genome within it: the fewest notches
 * down in first-layer filters (32, 16, 8) and cells (9, 7, 5) that fit, the largest such network when
 * several do; if even 8 filters and 5 cells do not fit, the costliest op (whose replacement by identity
 * would save the most parameters) is made one notch cheaper at a time until it fits. Only parameter counts
 * and the check decide, so it consumes no random numbers and a replayed run repairs exactly as the original
 * did. The learning rate and the node inputs are never changed.
 */
export function repairToBound(indices: GeneIndices, check: SizeCheck, params: ParamCounter): number[] {
  if (within(indices, check)) return [...indices];
  const scaled = smallerScale(indices, check, params);
  if (scaled !== null) return scaled;
  let x = withGene(withGene(indices, FILTERS_GENE, FILTERS.length - 1), CELLS_GENE, CELLS.length - 1);
  while (!within(x, check)) {
    const cheaper = cheaperOp(x, params);
    if (cheaper === null) throw infeasible(check(decode(x)) as string);
    x = cheaper;
  }
  return x;
}

/** Fewer filters and cells, by the fewest notches that fit (the largest network first); null if none fits. */
function smallerScale(indices: GeneIndices, check: SizeCheck, params: ParamCounter): number[] | null {
  const filtersLeft = FILTERS.length - 1 - (indices[FILTERS_GENE] as number);
  const cellsLeft = CELLS.length - 1 - (indices[CELLS_GENE] as number);
  for (let notches = 1; notches <= filtersLeft + cellsLeft; notches++) {
    let best: number[] | null = null;
    for (let down = Math.max(0, notches - cellsLeft); down <= Math.min(notches, filtersLeft); down++) {
      const y = withGene(
        withGene(indices, FILTERS_GENE, (indices[FILTERS_GENE] as number) + down),
        CELLS_GENE,
        (indices[CELLS_GENE] as number) + notches - down,
      );
      if (within(y, check) && (best === null || params(decode(y)) > params(decode(best)))) best = y;
    }
    if (best !== null) return best;
  }
  return null;
}

/** The genome with its costliest op one notch cheaper, or null when every op is identity. */
function cheaperOp(x: number[], params: ParamCounter): number[] | null {
  const size = params(decode(x));
  let gene = -1;
  let saving = 0;
  for (let g = FIRST_OP_GENE; g < GENE_SIZES.length; g++) {
    if (x[g] === IDENTITY) continue;
    const s = size - params(decode(withGene(x, g, IDENTITY)));
    if (s > saving) [gene, saving] = [g, s];
  }
  if (gene < 0) return null;
  let best = IDENTITY;
  let bestSize = size - saving;
  for (let op = 0; op < OPS.length; op++) {
    if (op === x[gene]) continue;
    const s = params(decode(withGene(x, gene, op)));
    if (s < size && s > bestSize) [best, bestSize] = [op, s];
  }
  return withGene(x, gene, best);
}

/**
 * Draws until a genome is within the bound (a random search stays uniform over the genomes that fit);
 * after MAX_REDRAWS rejected draws the last one is repaired. Returns the genome and the rejected draws.
 */
export function drawWithinBound(
  draw: () => number[],
  check: SizeCheck,
  params: ParamCounter,
): { indices: number[]; rejected: number } {
  let rejected = 0;
  let x = draw();
  while (!within(x, check)) {
    if (++rejected >= MAX_REDRAWS) return { indices: repairToBound(x, check, params), rejected };
    x = draw();
  }
  return { indices: x, rejected };
}

/**
 * Refuses a bound no genome can meet: the repair ends at 8 filters, 5 cells and identity ops with the
 * genome's own node inputs, so all of those must fit (checked once, when a search is created).
 */
export function checkBoundFeasible(check: SizeCheck): void {
  for (let in2 = 0; in2 < (GENE_SIZES[3] as number); in2++) {
    for (let in3 = 0; in3 < (GENE_SIZES[4] as number); in3++) {
      for (let in4 = 0; in4 < (GENE_SIZES[5] as number); in4++) {
        const smallest = [LEARNING_RATES.length - 1, FILTERS.length - 1, CELLS.length - 1, in2, in3, in4];
        const reason = check(decode([...smallest, IDENTITY, IDENTITY, IDENTITY, IDENTITY]));
        if (reason !== null) throw infeasible(reason);
      }
    }
  }
}

function infeasible(reason: string): EmonasError {
  return new EmonasError(
    'bad_request',
    `No network of the search space is within this search's size bound: even the smallest (8 filters, 5 cells, identity ops) ${reason}. Raise maxParams, or use a smaller patch or batch.`,
  );
}
