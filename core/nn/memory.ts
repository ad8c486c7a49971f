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
  /** Tensors the forward pass keeps for the backward pass, and the gradients flowing back through them. */
  activationBytes: number;
  /** Temporaries of tfjs's Adam update, which come after the activations are freed. */
  updateBytes: number;
  /** weights + optimizer + the larger of activations and update temporaries. */
  totalBytes: number;
}

const FLOAT_BYTES = 4;
/** tfjs's Adam creates eleven weight-sized temporaries per variable within one tidy. */
const ADAM_TEMPORARIES = 11;

/**
 * Counts tensors as TensorFlow.js holds them at the end of a backward pass, when the most is alive (all
 * gradients are freed only then). The counting rules are in opChannels and in the comments below; the
 * result was checked against the cpu backend's real buffers (test/unit/nn/memory.test.ts).
 */
export function estimateTrainingMemory(genome: Genome, options: MemoryEstimateOptions): MemoryEstimate {
  checkClasses(options.classes);
  checkPatchShape(genome, options.patch);
  if (!Number.isInteger(options.batch) || options.batch < 1) {
    throw new EmonasError(
      'bad_request',
      `The batch size must be a whole number of at least 1, not ${String(options.batch)}.`,
    );
  }
  const plan = planNetwork(genome, options.inChannels);
  const voxels0 = options.patch[0] * options.patch[1] * options.patch[2];
  const voxelsAt = (level: number): number => voxels0 / 8 ** level;
  const f0 = plan.levelFilters[0] ?? 0;

  let perSample = voxels0 * (options.inChannels + opChannels(plan.ops[0], options.inChannels, f0, false));
  for (const cell of plan.cells) {
    // The four-way sum keeps its three partial sums.
    let channels = 3 * cell.filters;
    plan.ops.forEach((op, node) => {
      const source = plan.nodeInputs[node] ?? 0;
      channels += opChannels(op, source === 0 ? cell.inChannels : cell.filters, cell.filters, true);
    });
    // Max-pool: its output, and its input gradient at twice the resolution.
    if (cell.index > 0 && cell.index <= plan.depth) channels += 9 * cell.inChannels;
    // Up-convolution before and after its bias, the skip sum, and its input gradient at half resolution.
    if (cell.index > plan.depth) channels += 3 * cell.filters + cell.filters / 4;
    perSample += voxelsAt(cell.level) * channels;
  }
  // Head before and after its bias, the class probabilities, the loss's intermediates and their gradients,
  // and the gradient of the last cell's output.
  perSample += voxels0 * (10 * options.classes + f0);
  // Instance norm's transient intermediates at the finest level: the most a single layer holds at once.
  if (plan.ops.some((op) => OP_KERNELS[op].length > 0)) perSample += voxels0 * 6 * f0;

  const params = countParams(genome, { inChannels: options.inChannels, classes: options.classes });
  const weightBytes = 2 * FLOAT_BYTES * params;
  const optimizerBytes = 2 * FLOAT_BYTES * params;
  const activationBytes = FLOAT_BYTES * options.batch * perSample;
  const updateBytes = ADAM_TEMPORARIES * FLOAT_BYTES * params;
  return {
    params,
    weightBytes,
    optimizerBytes,
    activationBytes,
    updateBytes,
    totalBytes: weightBytes + optimizerBytes + Math.max(activationBytes, updateBytes),
  };
}

/**
 * Channels per voxel one operation holds at the end of the backward pass. Forward: the ReLU output, each
 * conv before and after its bias, the norm's output. Backward: the gradients of the norm's input, of each
 * later conv's input, of the first conv's input and of the ReLU's input. Replication keeps its output and the
 * gradients of its copies.
 */
function opChannels(op: OpName, inChannels: number, filters: number, preActivation: boolean): number {
  const convs = OP_KERNELS[op].length;
  if (convs === 0) return inChannels === filters ? 0 : 2 * filters;
  const forward = (preActivation ? inChannels : 0) + 2 * convs * filters + filters;
  const backward = convs * filters + (preActivation ? 2 * inChannels : 0);
  return forward + backward;
}

/** Throws 'out_of_memory' with the numbers when a training step would not fit the budget; returns the estimate. */
export function checkMemoryBudget(
  genome: Genome,
  options: MemoryEstimateOptions,
  budgetBytes: number,
): MemoryEstimate {
  const estimate = estimateTrainingMemory(genome, options);
  if (estimate.totalBytes > budgetBytes) {
    const mb = (bytes: number): string => `${Math.ceil(bytes / 2 ** 20)} MB`;
    throw new EmonasError(
      'out_of_memory',
      `This network needs about ${mb(estimate.totalBytes)} to train on a batch of ${options.batch} ` +
        `${options.patch.join('x')} patch(es) (weights and gradients ${mb(estimate.weightBytes)}, optimiser ` +
        `${mb(estimate.optimizerBytes)}, activations ${mb(estimate.activationBytes)}, optimiser update ` +
        `${mb(estimate.updateBytes)}), more than the ${mb(budgetBytes)} budget. Use a smaller patch or batch, ` +
        'fewer first-layer filters or cells, or raise the memory budget.',
      { details: { ...estimate, budgetBytes } },
    );
  }
  return estimate;
}
