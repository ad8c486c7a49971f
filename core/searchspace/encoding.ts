// Runs in: any process. Between the two forms of a genome (category indices and decoded values), the
// validity rules both forms obey, and the keys that say when two genomes are the same.
import { EmonasError } from '../base/errors.ts';
import {
  CELLS,
  FILTERS,
  FIRST_OP_GENE,
  GENE_NAMES,
  GENE_SIZES,
  LEARNING_RATES,
  OPS,
  RESTRICTED_OP_COUNT,
  type GeneIndices,
  type Genome,
  type OpName,
} from './genome.ts';

/** True when NF1 = 32 with 9 cells, where only the first seven ops are allowed. */
export function isRestricted(filtersIndex: number, cellsIndex: number): boolean {
  return FILTERS[filtersIndex] === 32 && CELLS[cellsIndex] === 9;
}

/** How many values gene `gene` may take in this genome (an op gene has 7 under the restriction). */
export function allowedValues(indices: GeneIndices, gene: number): number {
  const size = GENE_SIZES[gene] ?? 0;
  if (gene >= FIRST_OP_GENE && isRestricted(indices[1] ?? -1, indices[2] ?? -1)) {
    return RESTRICTED_OP_COUNT;
  }
  return size;
}

/** Checks an index vector and returns it as a fresh array; explains the first problem found. */
export function validateIndices(value: unknown, file?: string): number[] {
  const where = file === undefined ? '' : ` in ${file}`;
  if (!Array.isArray(value) || value.length !== GENE_NAMES.length) {
    throw new EmonasError(
      'invalid_genome',
      `A genome in index form is a list of ${GENE_NAMES.length} whole numbers (${GENE_NAMES.join(', ')})${where}.`,
      file === undefined ? {} : { file },
    );
  }
  const indices = value.map((v: unknown, gene) => {
    const size = GENE_SIZES[gene] ?? 0;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v >= size) {
      throw new EmonasError(
        'invalid_genome',
        `Gene ${GENE_NAMES[gene]} has index ${JSON.stringify(v)}${where}; it must be a whole number from 0 to ${size - 1}.`,
        file === undefined ? {} : { file },
      );
    }
    return v;
  });
  checkRestriction(indices, file);
  return indices;
}

function checkRestriction(indices: GeneIndices, file?: string): void {
  if (!isRestricted(indices[1] ?? -1, indices[2] ?? -1)) return;
  for (let gene = FIRST_OP_GENE; gene < GENE_NAMES.length; gene++) {
    const op = indices[gene] ?? 0;
    if (op >= RESTRICTED_OP_COUNT) {
      throw new EmonasError(
        'invalid_genome',
        `Node ${gene - FIRST_OP_GENE + 1} uses ${OPS[op]}, which is not allowed with 32 filters and 9 cells (it would not fit in memory)${file === undefined ? '' : ` in ${file}`}; choose one of ${OPS.slice(0, RESTRICTED_OP_COUNT).join(', ')}, or fewer filters or cells.`,
        file === undefined ? {} : { file },
      );
    }
  }
}

export function decode(indices: GeneIndices): Genome {
  const v = validateIndices(indices);
  const at = (gene: number): number => v[gene] as number;
  return {
    learningRate: LEARNING_RATES[at(0)] as number,
    filters: FILTERS[at(1)] as Genome['filters'],
    cells: CELLS[at(2)] as Genome['cells'],
    inputs: [at(3), at(4), at(5)],
    ops: [0, 1, 2, 3].map((k) => OPS[at(FIRST_OP_GENE + k)] as OpName) as Genome['ops'],
  };
}

/** The learning rate's index; values within a relative 1e-6 of a listed rate count as that rate. */
export function learningRateIndex(rate: number): number {
  return LEARNING_RATES.findIndex((r) => Math.abs(rate - r) <= 1e-6 * r);
}

export function encode(genome: Genome, file?: string): number[] {
  const indices = [
    learningRateIndex(genome.learningRate),
    FILTERS.indexOf(genome.filters),
    CELLS.indexOf(genome.cells),
    genome.inputs[0],
    genome.inputs[1],
    genome.inputs[2],
    ...genome.ops.map((op) => OPS.indexOf(op)),
  ];
  return validateIndices(indices, file);
}

/** The duplicate-detection key of the reference: the index vector itself. */
export function genomeKey(indices: GeneIndices): string {
  return indices.join('.');
}

/**
 * A key shared by genomes that build the same function family. Each node reads exactly one earlier node,
 * so a cell is a tree rooted at the cell input; an identity node reading another node is only an alias of
 * it (it adds that node once more to the cell's sum), and siblings in the tree are interchangeable. The
 * stem takes op1's type, so op1 stays in the key on its own.
 */
export function functionalKey(indices: GeneIndices): string {
  const v = validateIndices(indices);
  const op = (node: number): string => OPS[v[FIRST_OP_GENE + node - 1] as number] as string;
  const input = (node: number): number => (node === 1 ? 0 : (v[node + 1] as number));
  const target = [0, 0, 0, 0, 0];
  const multiplicity = [0, 0, 0, 0, 0];
  const children: number[][] = [[], [], [], [], []];
  for (let node = 1; node <= 4; node++) {
    const source = target[input(node)] as number;
    if (op(node) === 'identity' && source !== 0) {
      target[node] = source;
      multiplicity[source] = (multiplicity[source] as number) + 1;
    } else {
      target[node] = node;
      multiplicity[node] = 1;
      children[source]?.push(node);
    }
  }
  const canon = (node: number): string => {
    const inner = (children[node] ?? []).map(canon).sort().join(',');
    return node === 0 ? `x[${inner}]` : `${op(node)}*${multiplicity[node]}[${inner}]`;
  };
  return `${v[0]}.${v[1]}.${v[2]}|stem:${op(1)}|${canon(0)}`;
}
