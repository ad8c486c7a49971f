// Runs in: any process. The check behind a search's size bound (core/searchspace/size-bound.ts): a genome's
// parameter count against maxParams and its training-memory estimate against the run's budget, for the
// run's input channels, classes, patch and batch. No tfjs here.
import type { Genome } from '../searchspace/genome.ts';
import type { SizeBound, SizeCheck } from '../searchspace/size-bound.ts';
import { estimateTrainingMemory } from './memory.ts';
import { countParams, type ParamCountOptions } from './param-count.ts';

const mb = (bytes: number): string => `${Math.ceil(bytes / 2 ** 20).toLocaleString('en-US')} MB`;

/** The check for a bound, or null when it bounds nothing. */
export function sizeCheck(bound: SizeBound, task: ParamCountOptions): SizeCheck | null {
  const { maxParams, memory } = bound;
  if (maxParams === null && memory === null) return null;
  return (genome: Genome): string | null => {
    if (maxParams !== null) {
      const params = countParams(genome, task);
      if (params > maxParams) {
        return `has ${params.toLocaleString('en-US')} parameters, more than the search's bound of ${maxParams.toLocaleString('en-US')} (maxParams)`;
      }
    }
    if (memory !== null) {
      const estimate = estimateTrainingMemory(genome, { ...task, patch: memory.patch, batch: memory.batch });
      if (estimate.totalBytes > memory.budgetBytes) {
        return `needs about ${mb(estimate.totalBytes)} to train on a batch of ${memory.batch} ${memory.patch.join('x')} patch(es), more than the search's ${mb(memory.budgetBytes)} memory budget`;
      }
    }
    return null;
  };
}
