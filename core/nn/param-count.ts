// Runs in: any process. The trainable parameter count of a genome's network in closed form (method.md
// section 2.7). It must equal model.countParams() of buildModel's network, and it does not load tfjs, so
// the search and the surrogate can call it for every candidate.

import { EmonasError } from '../base/errors.ts';
import type { Genome, OpName } from '../searchspace/genome.ts';
import { kernelVolume, OP_KERNELS } from './op-kernels.ts';
import { planNetwork } from './network-plan.ts';

export interface ParamCountOptions {
  /** Channels of the input image (1 for the reference). */
  inChannels: number;
  /** Output channels of the head: 1 for a sigmoid head, background + foreground classes for softmax. */
  classes: number;
}

export function countParams(genome: Genome, options: ParamCountOptions): number {
  checkClasses(options.classes);
  const plan = planNetwork(genome, options.inChannels);
  const f0 = plan.levelFilters[0] ?? 0;
  let total = opParams(plan.ops[0], plan.inChannels, f0);
  for (const cell of plan.cells) {
    plan.ops.forEach((op, node) => {
      const source = plan.nodeInputs[node] ?? 0;
      total += opParams(op, source === 0 ? cell.inChannels : cell.filters, cell.filters);
    });
  }
  for (let d = plan.depth - 1; d >= 0; d--) {
    const out = plan.levelFilters[d] ?? 0;
    total += 8 * (plan.levelFilters[d + 1] ?? 0) * out + out;
  }
  return total + f0 * options.classes + options.classes;
}

/** Parameters of one operation from cIn to cOut channels: each conv has k1 k2 k3 cIn cOut weights + cOut biases. */
export function opParams(op: OpName, cIn: number, cOut: number): number {
  let total = 0;
  let channels = cIn;
  for (const kernel of OP_KERNELS[op]) {
    total += kernelVolume(kernel) * channels * cOut + cOut;
    channels = cOut;
  }
  return total;
}

export function checkClasses(classes: number): void {
  if (!Number.isInteger(classes) || classes < 1) {
    throw new EmonasError(
      'invalid_genome',
      `The network head needs a whole number of at least 1 output classes, not ${String(classes)}.`,
    );
  }
}
