// Runs in: any process. SaMEA's adaptive selection probabilities (method.md section 4.9): the success
// matrix, subproblem probabilities and per-gene value probabilities. Scores are built from f1 clamped to
// its bound, so no probability can become negative (the reference crashed after a diverged run).
import { FIRST_OP_GENE, GENE_SIZES, RESTRICTED_OP_COUNT } from '../searchspace/genome.ts';
import type { ValueProbabilities } from '../searchspace/probabilities.ts';
import { point } from './archive.ts';
import { selectBestN } from './pareto.ts';
import type { ArchiveEntry } from './protocol.ts';

/**
 * Successes of generation g: of the NSGA-II best n completed candidates of the whole archive, each born
 * in generation g counts once for the subproblem that generated it.
 */
export function successesOf(
  entries: readonly ArchiveEntry[],
  generation: number,
  n: number,
  subproblems: number,
): number[] {
  const row = new Array<number>(subproblems).fill(0);
  const valid = entries.filter((e) => !e.failed);
  for (const i of selectBestN(valid.map(point), n)) {
    const spec = (valid[i] as ArchiveEntry).spec;
    if (spec.generation === generation && spec.subproblem !== null) {
      row[spec.subproblem] = (row[spec.subproblem] as number) + 1;
    }
  }
  return row;
}

/** P(k) proportional to s_k/(sum s + 1e-6) + floor/N, where s_k sums subproblem k's successes so far. */
export function subproblemProbabilities(success: readonly (readonly number[])[], floor: number): number[] {
  const n = success[0]?.length ?? 0;
  const totals = new Array<number>(n).fill(0);
  for (const row of success) row.forEach((s, k) => (totals[k] = (totals[k] as number) + s));
  const sum = totals.reduce((a, b) => a + b, 0);
  const raw = totals.map((s) => s / (sum + 1e-6) + floor / n);
  const norm = raw.reduce((a, b) => a + b, 0);
  return raw.map((p) => p / norm);
}

/**
 * P(v) = (score_v / sum score + floor/n)/(1 + floor), with score_v = bound - mean f1 of the candidates whose
 * gene has value v (0 when none has). Every f1 is at most the bound, so every score is >= 0; when all
 * scores are 0 the vector is uniform.
 */
export function valueVector(scores: readonly number[], floor: number): number[] {
  const n = scores.length;
  const sum = scores.reduce((a, b) => a + b, 0);
  if (!(sum > 0)) return scores.map(() => 1 / n);
  return scores.map((s) => (s / sum + floor / n) / (1 + floor));
}

function scoresOf(entries: readonly ArchiveEntry[], gene: number, values: number, bound: number): number[] {
  const sums = new Array<number>(values).fill(0);
  const counts = new Array<number>(values).fill(0);
  for (const e of entries) {
    const v = e.spec.indices[gene] as number;
    if (v < values) {
      sums[v] = (sums[v] as number) + Math.min(e.f1, bound);
      counts[v] = (counts[v] as number) + 1;
    }
  }
  return sums.map((s, v) => ((counts[v] as number) > 0 ? Math.max(0, bound - s / (counts[v] as number)) : 0));
}

/** The value probabilities learned from every evaluated candidate (failures count with f1 = bound). */
export function valueProbabilities(
  entries: readonly ArchiveEntry[],
  bound: number,
  floor: number,
): ValueProbabilities {
  return {
    genes: GENE_SIZES.map((size, gene) => valueVector(scoresOf(entries, gene, size, bound), floor)),
    restrictedOps: [0, 1, 2, 3].map((k) =>
      valueVector(scoresOf(entries, FIRST_OP_GENE + k, RESTRICTED_OP_COUNT, bound), floor),
    ),
  };
}
