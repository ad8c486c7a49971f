// Runs in: any process. The best genotypes the EMONAS-Net paper reports (method.md section 8), ready to
// build or retrain, and a small variant cheap enough for tests and CPU demos.

import { EmonasError } from '../base/errors.ts';
import type { Genome } from '../searchspace/genome.ts';

export type BuiltinGenomeName = 'prostate' | 'hippocampus' | 'cardiac' | 'small';

/** Node inputs are given as in the paper: 'input' is node 0, 'node 1' is 1, and so on. */
export const BUILTIN_GENOMES: Readonly<Record<BuiltinGenomeName, Readonly<Genome>>> = {
  /** PROMISE12, also main.py's default: 5,944,353 parameters with a 1-class head. */
  prostate: {
    learningRate: 3e-4,
    filters: 32,
    cells: 7,
    inputs: [1, 0, 2],
    ops: ['convP3d_3x3', 'conv3d_3x3x3', 'conv2d_5x5', 'conv3d_1x1x1'],
  },
  /** MSD Task04. */
  hippocampus: {
    learningRate: 4e-4,
    filters: 32,
    cells: 7,
    inputs: [0, 1, 1],
    ops: ['conv3d_3x3x3', 'convP3d_3x3', 'convP3d_3x3', 'conv2d_5x5'],
  },
  /** ACDC. */
  cardiac: {
    learningRate: 4e-4,
    filters: 32,
    cells: 7,
    inputs: [0, 1, 3],
    ops: ['conv2d_3x3', 'convP3d_3x3', 'conv3d_1x1x1', 'conv2d_7x7'],
  },
  /** The hippocampus cell with 8 first-layer filters and 5 cells. */
  small: {
    learningRate: 4e-4,
    filters: 8,
    cells: 5,
    inputs: [0, 1, 1],
    ops: ['conv3d_3x3x3', 'convP3d_3x3', 'convP3d_3x3', 'conv2d_5x5'],
  },
};

/** A fresh copy the caller may change. */
export function builtinGenome(name: string): Genome {
  const genome = (BUILTIN_GENOMES as Record<string, Readonly<Genome> | undefined>)[name];
  if (genome === undefined) {
    throw new EmonasError(
      'bad_request',
      `There is no built-in network called "${name}"; choose one of ${Object.keys(BUILTIN_GENOMES).join(', ')}.`,
    );
  }
  return { ...genome, inputs: [...genome.inputs], ops: [...genome.ops] };
}
