// Runs in: any process. What every strategy does with the search's size bound: refuses a bound no genome
// meets when the strategy is created, brings each genome it draws or breeds within the bound, and
// remembers how, for the candidate's journal record. Without a bound it changes nothing and consumes no
// random numbers, so runs without one decide exactly as before.
import type { GeneIndices } from '../searchspace/genome.ts';
import type { ParamCounter } from '../searchspace/param-counter.ts';
import {
  checkBoundFeasible,
  drawWithinBound,
  repairToBound,
  type SizeCheck,
} from '../searchspace/size-bound.ts';
import type { ArchiveEntry, SizeFit } from './protocol.ts';

export class SizeFitter {
  private fitted: SizeFit | null = null;

  constructor(
    private readonly check: SizeCheck | null,
    private readonly params: ParamCounter,
  ) {
    if (check) checkBoundFeasible(check);
  }

  /** Whether the search has a bound (its logs then count the candidates the bound changed). */
  get active(): boolean {
    return this.check !== null;
  }

  /** The genome repaired to within the bound (unchanged when it is, or without a bound). */
  repair(indices: GeneIndices): number[] {
    this.fitted = null;
    if (!this.check) return [...indices];
    const repaired = repairToBound(indices, this.check, this.params);
    if (repaired.some((v, gene) => v !== indices[gene])) {
      this.fitted = { method: 'repaired', from: [...indices] };
    }
    return repaired;
  }

  /** A draw within the bound: `draw` is called again while its genome breaks the bound. */
  draw(draw: () => number[]): number[] {
    this.fitted = null;
    if (!this.check) return draw();
    const { indices, rejected } = drawWithinBound(draw, this.check, this.params);
    if (rejected > 0) this.fitted = { method: 'redrawn', rejected };
    return indices;
  }

  /** How the genome the last repair or draw returned was brought within the bound; null: it was not. */
  get last(): SizeFit | null {
    return this.fitted;
  }

  /** A generation log's count of the candidates the bound changed, present only when there is a bound. */
  logCount(entries: readonly ArchiveEntry[], generation: number): { repaired?: number } {
    if (!this.active) return {};
    return {
      repaired: entries.filter((e) => e.spec.generation === generation && e.spec.sizeFit !== undefined)
        .length,
    };
  }
}
