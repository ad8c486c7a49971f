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

/** Adam learning rates, in the reference's index order (largest first). */
export const LEARNING_RATES = [
  1e-3, 9e-4, 8e-4, 7e-4, 6e-4, 5e-4, 4e-4, 3e-4, 2e-4, 1e-4, 9e-5, 8e-5, 7e-5, 6e-5, 5e-5, 4e-5, 3e-5, 2e-5,
  1e-5,
] as const;

/** NF1 values in index order. */
export const FILTERS = [32, 16, 8] as const;

/** Ncells values in index order. */
export const CELLS = [9, 7, 5] as const;

/**
 * The ten genes in the reference order; a genome's index form is one category index per gene, in this
 * order: [learningRate, filters, cells, node2Input, node3Input, node4Input, op1, op2, op3, op4].
 */
export const GENE_NAMES = [
  'learningRate',
  'filters',
  'cells',
  'node2Input',
  'node3Input',
  'node4Input',
  'op1',
  'op2',
  'op3',
  'op4',
] as const;

export type GeneName = (typeof GENE_NAMES)[number];

/** Number of categories of each gene (ops: the full list; see RESTRICTED_OP_COUNT). */
export const GENE_SIZES = [19, 3, 3, 2, 3, 4, 10, 10, 10, 10] as const;

/** Position of op1 in the index form; op genes are the last four. */
export const FIRST_OP_GENE = 6;

/**
 * With NF1 = 32 and 9 cells only the first seven ops are allowed (the reference's out-of-memory guard); the
 * restricted list is a prefix of OPS, so indices stay compatible.
 */
export const RESTRICTED_OP_COUNT = 7;

/** A genome in index form: ten category indices in GENE_NAMES order. */
export type GeneIndices = readonly number[];
