import { describe, expect, it } from 'vitest';
import { Archive } from '../../../core/search/archive.ts';
import {
  subproblemProbabilities,
  successesOf,
  valueProbabilities,
  valueVector,
} from '../../../core/search/samea-probabilities.ts';
import type { CandidateSpec, EvaluationOutcome } from '../../../core/search/protocol.ts';
import { decode, genomeKey } from '../../../core/searchspace/encoding.ts';

const NORMALISATION = { f1Bound: 1.5, lnParamsMin: 8.5, lnParamsMax: 17.7 };

function spec(
  id: string,
  indices: number[],
  f2Norm: number,
  generation = 1,
  subproblem: number | null = 0,
): CandidateSpec {
  return {
    id,
    generation,
    indices,
    genome: decode(indices),
    params: 1000,
    f2: 8.5 + 9.2 * f2Norm,
    f2Norm,
    seed: 1,
    subproblem,
    parents: [],
    phase: 'learning',
    prediction: null,
  };
}

describe('subproblem probabilities', () => {
  it('follow s_k/(sum s + 1e-6) + epsilon, renormalised', () => {
    const p = subproblemProbabilities(
      [
        [0, 0, 0],
        [2, 0, 1],
      ],
      0.2,
    );
    const raw = [2 / 3.000001 + 0.2 / 3, 0.2 / 3, 1 / 3.000001 + 0.2 / 3];
    const total = raw.reduce((a, b) => a + b, 0);
    expect(p).toHaveLength(raw.length);
    p.forEach((v, k) => expect(v).toBeCloseTo((raw[k] as number) / total, 12));
  });

  it('are uniform before any success', () => {
    expect(subproblemProbabilities([[0, 0, 0, 0]], 0.2)).toEqual([0.25, 0.25, 0.25, 0.25]);
  });
});

describe('value probabilities', () => {
  it('give an unseen value a sixth of a uniform share', () => {
    const p = valueVector([0.3, 0, 0.3], 0.2);
    expect(p[1]).toBeCloseTo(1 / 3 / 6, 12);
    expect(p[0]).toBeCloseTo((0.5 + 0.2 / 3) / 1.2, 12);
    expect(p.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
  });

  it('never go negative, even after a diverged run reported an absurd f1', () => {
    const archive = new Archive(NORMALISATION, genomeKey);
    const diverged: EvaluationOutcome = { status: 'completed', f1: 1250 };
    archive.add(spec('a', [0, 0, 1, 0, 0, 0, 1, 1, 1, 1], 0.5), diverged);
    archive.add(spec('b', [1, 1, 1, 0, 0, 0, 1, 1, 1, 1], 0.4), { status: 'completed', f1: 0.3 });
    archive.add(spec('c', [0, 1, 1, 0, 0, 0, 1, 1, 1, 1], 0.4), { status: 'completed', f1: Number.NaN });
    const p = valueProbabilities(archive.entries, 1.5, 0.2);
    expect(p.genes.length).toBeGreaterThan(0);
    expect(p.restrictedOps.length).toBeGreaterThan(0);
    for (const vector of [...p.genes, ...p.restrictedOps]) {
      expect(vector.length).toBeGreaterThan(0);
      for (const v of vector) expect(v).toBeGreaterThan(0);
      expect(vector.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
    }
    // lr index 0 saw only f1 at the bound: score 0, the same share as an unseen value.
    expect(p.genes[0]![0]).toBeCloseTo(p.genes[0]![5] as number, 12);
    expect(p.genes[0]![1]).toBeGreaterThan(p.genes[0]![0] as number);
  });

  it('fall back to uniform when every candidate failed', () => {
    const archive = new Archive(NORMALISATION, genomeKey);
    archive.add(spec('a', [0, 0, 1, 0, 0, 0, 1, 1, 1, 1], 0.5), {
      status: 'failed',
      code: 'out_of_memory',
      reason: 'x',
    });
    const p = valueProbabilities(archive.entries, 1.5, 0.2);
    expect(p.genes[1]).toEqual([1 / 3, 1 / 3, 1 / 3]);
  });
});

describe('success counting', () => {
  it('credits the generating subproblem of best-N candidates born in this generation', () => {
    const archive = new Archive(NORMALISATION, genomeKey);
    archive.add(spec('old', [0, 0, 1, 0, 0, 0, 1, 1, 1, 1], 0.9, 0, null), { status: 'completed', f1: 0.15 });
    archive.add(spec('g2a', [1, 0, 1, 0, 0, 0, 1, 1, 1, 1], 0.2, 2, 1), { status: 'completed', f1: 0.9 });
    archive.add(spec('g2b', [2, 0, 1, 0, 0, 0, 1, 1, 1, 1], 0.95, 2, 2), { status: 'completed', f1: 1.2 });
    archive.add(spec('g1', [3, 0, 1, 0, 0, 0, 1, 1, 1, 1], 0.1, 1, 0), { status: 'completed', f1: 1.2 });
    archive.add(spec('bad', [4, 0, 1, 0, 0, 0, 1, 1, 1, 1], 0.05, 2, 2), {
      status: 'failed',
      code: 'diverged',
      reason: 'x',
    });
    // Best 3 of the completed: front {old, g2a, g1}; g2b is dominated; the failure never counts.
    expect(successesOf(archive.entries, 2, 3, 3)).toEqual([0, 1, 0]);
    expect(successesOf(archive.entries, 1, 3, 3)).toEqual([1, 0, 0]);
  });
});
