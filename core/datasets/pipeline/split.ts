// Runs in: any process. The training / validation / held-out test split, drawn by patient so the cases of
// one patient (ACDC's ED and ES frames) never land on two sides, and seeded so it can be recorded and
// redrawn exactly.
import { EmonasError } from '../../base/errors.ts';
import { RandomStream } from '../../base/random.ts';
import type { CaseEntry } from '../case-table.ts';

export interface SplitOptions {
  /** Fraction of patients used to pick the best epoch and for early stopping. */
  valFraction: number;
  /** Fraction of patients never used in training or model selection, for an honest evaluation. */
  testFraction: number;
  seed: number;
}

export interface Split extends SplitOptions {
  train: string[];
  val: string[];
  test: string[];
}

/** Only cases that are usable, labelled and not in the dataset's own test subset take part. */
export function splitByPatient(cases: readonly CaseEntry[], options: SplitOptions): Split {
  const { valFraction, testFraction, seed } = options;
  if (!(valFraction > 0 && valFraction < 1)) {
    throw new EmonasError(
      'bad_request',
      `The validation fraction must be above 0 and below 1 (validation picks the best epoch), not ${valFraction}.`,
    );
  }
  if (!(testFraction >= 0 && testFraction < 1)) {
    throw new EmonasError(
      'bad_request',
      `The test fraction must be at least 0 and below 1, not ${testFraction}.`,
    );
  }
  if (valFraction + testFraction >= 1) {
    throw new EmonasError(
      'bad_request',
      `The validation and test fractions add up to ${valFraction + testFraction}; leave some cases for training.`,
    );
  }
  const byPatient = new Map<string, string[]>();
  for (const c of cases) {
    if (!c.ok || c.subset !== 'train' || c.label === undefined) continue;
    const ids = byPatient.get(c.patient) ?? [];
    ids.push(c.id);
    byPatient.set(c.patient, ids);
  }
  const patients = [...byPatient.keys()].sort();
  if (patients.length < 2) {
    throw new EmonasError(
      'invalid_dataset',
      `Training needs labelled cases from at least 2 patients (one to train, one to validate); this dataset has ${patients.length}.`,
    );
  }
  RandomStream.fromSeed(seed, 'split').shuffle(patients);
  const nVal = Math.max(1, Math.round(valFraction * patients.length));
  const nTest = Math.round(testFraction * patients.length);
  if (nVal + nTest >= patients.length) {
    throw new EmonasError(
      'invalid_dataset',
      `With ${patients.length} patients, a validation fraction of ${valFraction} and a test fraction of ${testFraction} leave no patient for training; lower the fractions.`,
    );
  }
  const take = (list: string[]): string[] => list.flatMap((p) => byPatient.get(p) ?? []).sort();
  return {
    valFraction,
    testFraction,
    seed,
    val: take(patients.slice(0, nVal)),
    test: take(patients.slice(nVal, nVal + nTest)),
    train: take(patients.slice(nVal + nTest)),
  };
}
