// Runs in: any process. Estimates the memory one training step of a genome's network needs, so the search
// can reject or repair a candidate that would not fit instead of crashing a worker. No tfjs here.

import { EmonasError } from '../base/errors.ts';
import type { Genome, OpName } from '../searchspace/genome.ts';
import { planNetwork } from './network-plan.ts';
import { OP_KERNELS } from './op-kernels.ts';
import { checkClasses, countParams } from './param-count.ts';
import { checkPatchShape } from './patch-shape.ts';

export interface MemoryEstimateOptions {
  /** [X, Y, Z] of a training patch. */
  patch: readonly [number, number, number];
  batch: number;
  inChannels: number;
  classes: number;
}

export interface MemoryEstimate {
  params: number;
  /** Weights and their gradients. */
  weightBytes: number;
  /** Adam's first and second moments. */
  optimizerBytes: number;
  /** Tensors kept from the forward pass for the backward pass, and the gradients flowing back through them. */
  activationBytes: number;
  totalBytes: number;
}

const FLOAT_BYTES = 4;

/**
 * Activation tensors are counted as TensorFlow.js keeps them for the backward pass: each convolution's output
 * before and after its bias, every ReLU, normalisation, pooling, replication and sum output, the partial sums
 * of a cell's four-way sum, the head and the input. The backward pass then holds a gradient for about each of
 * them until it ends, hence the factor 2.
 */
export function estimateTrainingMemory(genome: Genome, options: MemoryEstimateOptions): MemoryEstimate {
  checkClasses(options.classes);
  checkPatchShape(genome, options.patch);
  if (!Number.isInteger(options.batch) || options.batch < 1) {
    throw new EmonasError('bad_request', `The batch size must be a whole number of at least 1, not ${String(options.batch)}.`);
  }
  const plan = planNetwork(genome, options.inChannels);
  const voxels0 = options.patch[0] * options.patch[1] * options.patch[2];
  const voxelsAt = (level: number): number => voxels0 / 8 ** level;
  const f0 = plan.levelFilters[0] ?? 0;

  let perSample = voxels0 * (options.inChannels + opActivations(plan.ops[0], options.inChannels, f0, false));
  for (const cell of plan.cells) {
    // The four-way sum keeps its three partial sums.
    let channels = 3 * cell.filters;
    plan.ops.forEach((op, node) => {
      const source = plan.nodeInputs[node] ?? 0;
      channels += opActivations(op, source === 0 ? cell.inChannels : cell.filters, cell.filters, true);
    });
    // Max-pool: its output, and its input gradient at twice the resolution.
    if (cell.index > 0 && cell.index <= plan.depth) channels += 9 * cell.inChannels;
    // Up-convolution before and after its bias, the skip sum, and its input gradient at half resolution.
    if (cell.index > plan.depth) channels += 3 * cell.filters + cell.filters / 4;
    perSample += voxelsAt(cell.level) * channels;
  }
  // Head before and after its bias, the class probabilities, the loss's intermediates and their gradients.
  perSample += voxels0 * (10 * options.classes + f0);
  // Instance norm's transient intermediates at the finest level, the largest a single layer needs at once.
  perSample += voxels0 * 6 * f0;

  const params = countParams(genome, { inChannels: options.inChannels, classes: options.classes });
  const weightBytes = 2 * FLOAT_BYTES * params;
  const optimizerBytes = 2 * FLOAT_BYTES * params;
  const activationBytes = FLOAT_BYTES * options.batch * perSample;
  return { params, weightBytes, optimizerBytes, activationBytes, totalBytes: weightBytes + optimizerBytes + activationBytes };
}

/**
 * Channels per voxel one operation holds at the end of the backward pass. Forward: the ReLU output, each conv
 * before and after its bias, the norm's output. Backward: the gradients of the norm's and each conv's input
 * and of the ReLU's input. Replication keeps its output and the gradient slices of its copies.
 */
function opActivations(op: OpName, inChannels: number, filters: number, preActivation: boolean): number {
  const convs = OP_KERNELS[op].length;
  if (convs === 0) return inChannels === filters ? 0 : 2 * filters;
  const forward = (preActivation ? inChannels : 0) + 2 * convs * filters + filters;
  const backward = filters + (convs - 1) * filters + (preActivation ? 2 * inChannels : 0);
  return forward + backward;
}

/** Throws 'out_of_memory' with the numbers when a training step would not fit the budget; returns the estimate. */
export function checkMemoryBudget(genome: Genome, options: MemoryEstimateOptions, budgetBytes: number): MemoryEstimate {
  const estimate = estimateTrainingMemory(genome, options);
  if (estimate.totalBytes > budgetBytes) {
    const mb = (bytes: number): string => `${(bytes / 2 ** 20).toFixed(0)} MB`;
    throw new EmonasError(
      'out_of_memory',
      `This network needs about ${mb(estimate.totalBytes)} to train on ${options.batch} patch(es) of ` +
        `${options.patch.join('x')} (weights ${mb(estimate.weightBytes)}, optimiser ${mb(estimate.optimizerBytes)}, ` +
        `activations ${mb(estimate.activationBytes)}), more than the ${mb(budgetBytes)} budget. Use a smaller ` +
        'patch or batch, fewer first-layer filters or cells, or raise the memory budget.',
      { details: { ...estimate, budgetBytes } },
    );
  }
  return estimate;
}
