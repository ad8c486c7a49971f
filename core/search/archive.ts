// Runs in: any process. The external archive (method.md section 4.8): every evaluated candidate with its
// outcome and normalised objectives, never pruned; its Pareto front; and the surrogate's training data.
import { GENE_SIZES, type GeneIndices } from '../searchspace/genome.ts';
import type { Point2 } from './decomposition.ts';
import { normaliseF1, type Normalisation } from './normalisation.ts';
import { hypervolume2d, nonDominated2d } from './pareto.ts';
import type { ArchiveEntry, CandidateSpec, EvaluationOutcome } from './protocol.ts';

export type FeatureEncoding = 'indices' | 'onehot';

/**
 * An outcome as the search may use it: a completed evaluation without a finite f1 (a diverged training)
 * becomes a failure with that reason; anything malformed becomes a failure that says so.
 */
export function sanitiseOutcome(outcome: unknown): EvaluationOutcome {
  const o = outcome as Partial<Record<string, unknown>> | null;
  if (o?.status === 'failed') {
    return {
      status: 'failed',
      code: typeof o.code === 'string' ? o.code : 'internal',
      reason: typeof o.reason === 'string' ? o.reason : 'The evaluation failed without a reason.',
    };
  }
  if (o?.status === 'completed') {
    if (typeof o.f1 !== 'number' || !Number.isFinite(o.f1)) {
      return {
        status: 'failed',
        code: 'diverged',
        reason: `The training diverged: f1 is ${String(o.f1)} (a loss became NaN or infinite).`,
      };
    }
    const clean: EvaluationOutcome = { status: 'completed', f1: o.f1 };
    for (const key of ['valLoss', 'trainLoss', 'epochs', 'bestEpoch'] as const) {
      const value = o[key];
      if (typeof value === 'number' && Number.isFinite(value)) clean[key] = value;
    }
    return clean;
  }
  return {
    status: 'failed',
    code: 'internal',
    reason: `The evaluator returned ${JSON.stringify(outcome)}, which is neither a completed nor a failed outcome.`,
  };
}

/** Surrogate features: the ten indices as ordinal numbers (the reference) or one-hot, then raw ln(params). */
export function surrogateFeatures(spec: CandidateSpec, encoding: FeatureEncoding): number[] {
  if (encoding === 'indices') return [...spec.indices, spec.f2];
  const features: number[] = [];
  spec.indices.forEach((value, gene) => {
    for (let v = 0; v < (GENE_SIZES[gene] ?? 0); v++) features.push(v === value ? 1 : 0);
  });
  features.push(spec.f2);
  return features;
}

export class Archive {
  readonly entries: ArchiveEntry[] = [];
  private readonly keys = new Set<string>();

  constructor(
    private readonly normalisation: Normalisation,
    private readonly keyOf: (indices: GeneIndices) => string,
  ) {}

  get size(): number {
    return this.entries.length;
  }

  key(indices: GeneIndices): string {
    return this.keyOf(indices);
  }

  has(indices: GeneIndices): boolean {
    return this.keys.has(this.keyOf(indices));
  }

  add(spec: CandidateSpec, outcome: EvaluationOutcome): ArchiveEntry {
    const clean = sanitiseOutcome(outcome);
    const failed = clean.status === 'failed';
    const f1 = failed
      ? this.normalisation.f1Bound
      : Math.min(Math.max(clean.f1, 0), this.normalisation.f1Bound);
    const entry: ArchiveEntry = {
      index: this.entries.length,
      spec,
      outcome: clean,
      failed,
      f1,
      f1Norm: normaliseF1(f1, this.normalisation),
      f2Norm: spec.f2Norm,
    };
    this.entries.push(entry);
    this.keys.add(this.keyOf(spec.indices));
    return entry;
  }

  /** Entries that completed; failed candidates never enter a front. */
  completed(): ArchiveEntry[] {
    return this.entries.filter((e) => !e.failed);
  }

  front(): ArchiveEntry[] {
    return frontOf(this.entries);
  }

  hypervolume(reference: Point2, upTo = this.entries.length): number {
    return hypervolume2d(
      this.entries
        .slice(0, upTo)
        .filter((e) => !e.failed)
        .map(point),
      reference,
    );
  }

  /** The first `rows` entries as surrogate training data; the target is f1Norm (a failure counts as 1). */
  trainingSet(rows: number, encoding: FeatureEncoding): { x: number[][]; y: number[] } {
    const used = this.entries.slice(0, rows);
    return { x: used.map((e) => surrogateFeatures(e.spec, encoding)), y: used.map((e) => e.f1Norm) };
  }
}

export function point(entry: ArchiveEntry): Point2 {
  return [entry.f1Norm, entry.f2Norm];
}

/** The first non-dominated front of the completed entries on (f1Norm, f2Norm), lowest f1 first. */
export function frontOf(entries: readonly ArchiveEntry[]): ArchiveEntry[] {
  const valid = entries.filter((e) => !e.failed);
  return nonDominated2d(valid.map(point)).map((i) => valid[i] as ArchiveEntry);
}
