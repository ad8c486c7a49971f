// Runs in: any process. The formula problem: a bi-objective problem over the real genome whose f2 is the
// real ln(params) and whose f1 is a deterministic formula of the genes, so thousands of evaluations cost
// nothing and the true front is known (formula-front.ts). f1 mixes network size (bigger is better, so
// the two objectives conflict), per-node op quality that depends on NF1, the depth and redundancy of the
// cell's tree, an in-plane/3D diversity bonus and a learning-rate optimum that moves with the network's
// size; optional seeded noise is fixed per genotype, so the same genome always scores the same.
import { RandomStream } from '../base/random.ts';
import { genomeKey } from '../searchspace/encoding.ts';
import { FIRST_OP_GENE, LEARNING_RATES, OPS, type GeneIndices } from '../searchspace/genome.ts';
import type { CandidateSpec, EvaluationOutcome } from './protocol.ts';

export interface FormulaProblemConfig {
  /** Standard deviation of the per-genotype noise added to f1 (0: none). */
  noise: number;
  noiseSeed: number;
  /** When true, 9-cell networks with a learning rate of 6e-4 or more diverge (f1 NaN), as real ones can. */
  divergence: boolean;
}

export const DEFAULT_FORMULA: FormulaProblemConfig = { noise: 0, noiseSeed: 0, divergence: false };

/** Quality cost of each op (index order of OPS); lower is better. */
const OP_COST = [0.03, 0, 0.02, 0.016, 0.004, 0.008, 0.045, 0.012, 0.024, 0.014] as const;
const NODE_WEIGHT = [1, 0.85, 0.7, 0.55] as const;
const PSEUDO_3D = new Set(['convP3d_3x3', 'convP3d_5x5', 'convP3d_7x7']);
const IN_PLANE = new Set(['conv2d_3x3', 'conv2d_5x5', 'conv2d_7x7', ...PSEUDO_3D]);
const FULL_3D = new Set(['conv3d_3x3x3', 'conv3d_5x5x5']);

/** f1 without the learning-rate term: everything that depends on the architecture. */
export function architectureTerm(indices: GeneIndices, lnParams: number): number {
  const t = Math.min(1, Math.max(0, (lnParams - 8.5) / 9.25));
  const capacity = 0.1 + 0.34 * Math.exp(-3.2 * t);
  const filters = indices[1] as number;
  const ops = [0, 1, 2, 3].map((k) => OPS[indices[FIRST_OP_GENE + k] as number] as string);
  const inputs = [0, indices[3] as number, indices[4] as number, indices[5] as number];
  let quality = 0;
  ops.forEach((op, k) => {
    const thin = filters === 2 && PSEUDO_3D.has(op) ? 0.005 : 0;
    quality += (NODE_WEIGHT[k] as number) * ((OP_COST[OPS.indexOf(op as never)] as number) - thin);
  });
  const depth = [0, 0, 0, 0, 0];
  for (let node = 1; node <= 4; node++) depth[node] = (depth[inputs[node - 1] as number] as number) + 1;
  const structure = (0.03 * (4 - Math.max(...depth))) / 3;
  let redundancy = 0;
  for (let a = 0; a < 4; a++) {
    for (let b = a + 1; b < 4; b++) {
      if (ops[a] === ops[b] && inputs[a] === inputs[b]) redundancy += 0.02;
    }
  }
  const diverse = ops.some((op) => IN_PLANE.has(op)) && ops.some((op) => FULL_3D.has(op)) ? 0.015 : 0;
  return capacity + quality + structure + redundancy - diverse;
}

/** The learning-rate term: a parabola in log10(lr) whose optimum is lower for wider and deeper networks. */
export function learningRateTerm(lrIndex: number, filtersIndex: number, cellsIndex: number): number {
  const optimum = -3.35 - 0.25 * (2 - filtersIndex) - 0.1 * (2 - cellsIndex);
  const x = Math.log10(LEARNING_RATES[lrIndex] as number);
  return 0.05 * (x - optimum) ** 2;
}

/** The noise-free f1 of a genotype with the given ln(params). */
export function formulaF1(indices: GeneIndices, lnParams: number): number {
  return (
    architectureTerm(indices, lnParams) +
    learningRateTerm(indices[0] as number, indices[1] as number, indices[2] as number)
  );
}

/** The index of the learning rate that minimises f1 for an NF1/Ncells pair (the rest of f1 does not care). */
export function bestLearningRateIndex(filtersIndex: number, cellsIndex: number): number {
  let best = 0;
  for (let i = 1; i < LEARNING_RATES.length; i++) {
    if (learningRateTerm(i, filtersIndex, cellsIndex) < learningRateTerm(best, filtersIndex, cellsIndex))
      best = i;
  }
  return best;
}

/** An evaluator for the formula problem (synchronous: nothing to wait for). */
export function formulaEvaluator(
  config: FormulaProblemConfig = DEFAULT_FORMULA,
): (spec: Pick<CandidateSpec, 'indices' | 'genome' | 'f2'>) => EvaluationOutcome {
  return (spec) => {
    const lr = spec.genome.learningRate;
    if (config.divergence && spec.genome.cells === 9 && lr >= 6e-4 - 1e-12) {
      return { status: 'completed', f1: Number.NaN };
    }
    let f1 = formulaF1(spec.indices, spec.f2);
    if (config.noise > 0) {
      f1 +=
        config.noise * RandomStream.fromSeed(config.noiseSeed, `formula:${genomeKey(spec.indices)}`).normal();
    }
    return { status: 'completed', f1: Math.max(0, f1) };
  };
}
