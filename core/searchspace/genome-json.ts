// Runs in: any process. The JSON genome format users write and read (documented in README.md): parsing
// with explanations a researcher can act on, and the inverse.
import { EmonasError } from '../base/errors.ts';
import { CELLS, FILTERS, LEARNING_RATES, OPS, type Genome, type OpName } from './genome.ts';
import { encode, learningRateIndex } from './encoding.ts';

const FIELDS = ['learningRate', 'filters', 'cells', 'inputs', 'ops'] as const;

function fail(message: string, file?: string): never {
  const where = file === undefined ? '' : ` (in ${file})`;
  throw new EmonasError('invalid_genome', message + where, file === undefined ? {} : { file });
}

/** Validates unknown data as a genome; every rule broken is explained in the thrown error. */
export function parseGenome(value: unknown, file?: string): Genome {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    fail(`A genome is a JSON object with the fields ${FIELDS.join(', ')}.`, file);
  }
  const record = value as Record<string, unknown>;
  const unknown = Object.keys(record).filter((k) => !(FIELDS as readonly string[]).includes(k));
  if (unknown.length > 0) {
    fail(
      `The genome has unknown field${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')}; the fields are ${FIELDS.join(', ')}.`,
      file,
    );
  }
  const missing = FIELDS.filter((k) => record[k] === undefined);
  if (missing.length > 0) fail(`The genome lacks ${missing.join(', ')}.`, file);

  const { learningRate, filters, cells, inputs, ops } = record;
  if (typeof learningRate !== 'number' || learningRateIndex(learningRate) < 0) {
    fail(
      `learningRate ${JSON.stringify(learningRate)} is not in the search space; use one of ${LEARNING_RATES.join(', ')}.`,
      file,
    );
  }
  if (typeof filters !== 'number' || !(FILTERS as readonly number[]).includes(filters)) {
    fail(`filters ${JSON.stringify(filters)} must be one of ${FILTERS.join(', ')}.`, file);
  }
  if (typeof cells !== 'number' || !(CELLS as readonly number[]).includes(cells)) {
    fail(`cells ${JSON.stringify(cells)} must be one of ${CELLS.join(', ')}.`, file);
  }
  if (!Array.isArray(inputs) || inputs.length !== 3) {
    fail('inputs must list the inputs of nodes 2, 3 and 4, e.g. [0, 1, 1].', file);
  }
  inputs.forEach((input: unknown, k) => {
    const node = k + 2;
    if (typeof input !== 'number' || !Number.isInteger(input) || input < 0 || input >= node) {
      fail(
        `inputs[${k}] (the input of node ${node}) is ${JSON.stringify(input)}; it must name an earlier node, 0 to ${node - 1} (0 is the cell input).`,
        file,
      );
    }
  });
  if (!Array.isArray(ops) || ops.length !== 4) {
    fail('ops must list the operations of nodes 1 to 4, e.g. ["conv3d_3x3x3", ...].', file);
  }
  ops.forEach((op: unknown, k) => {
    if (typeof op !== 'string' || !(OPS as readonly string[]).includes(op)) {
      fail(`ops[${k}] ${JSON.stringify(op)} is not an operation; use one of ${OPS.join(', ')}.`, file);
    }
  });
  const genome: Genome = {
    learningRate: LEARNING_RATES[learningRateIndex(learningRate)] as number,
    filters: filters as Genome['filters'],
    cells: cells as Genome['cells'],
    inputs: [inputs[0], inputs[1], inputs[2]] as [number, number, number],
    ops: [ops[0], ops[1], ops[2], ops[3]] as [OpName, OpName, OpName, OpName],
  };
  encode(genome, file);
  return genome;
}

/** The JSON form of a genome (field order as documented). */
export function genomeToJson(genome: Genome): Record<string, unknown> {
  return {
    learningRate: genome.learningRate,
    filters: genome.filters,
    cells: genome.cells,
    inputs: [...genome.inputs],
    ops: [...genome.ops],
  };
}
