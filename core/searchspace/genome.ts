// Runs in: any process. The EMONAS-Net genome (method.md section 1): ten categorical genes in the
// reference order. The decoded form builds and trains networks; the index form drives variation,
// duplicate detection and the surrogate.

/** The ten cell operations, in the reference implementation's index order. */
export const OPS = [
  'conv3d_1x1x1',
  'conv3d_3x3x3',
  'conv2d_3x3',
  'conv2d_5x5',
  'convP3d_3x3',
  'convP3d_5x5',
  'identity',
  'conv3d_5x5x5',
  'conv2d_7x7',
  'convP3d_7x7',
] as const;

export type OpName = (typeof OPS)[number];

export interface Genome {
  learningRate: number;
  /** Filters of the first cell, NF1. */
  filters: 8 | 16 | 32;
  /** Number of cells: one full-resolution encoder cell, nc down and nc up (5, 7 or 9). */
  cells: 5 | 7 | 9;
  /** Inputs of nodes 2, 3 and 4: each names an earlier node (0 = the cell input). */
  inputs: [number, number, number];
  /** Operations of nodes 1 to 4. */
  ops: [OpName, OpName, OpName, OpName];
}
