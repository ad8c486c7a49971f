// Runs in: any process. A search problem from user input, checked at once: the object every problem kind
// is, and the formula problem with its settings (the dataset problem's settings belong to training,
// core/train/setup/dataset-problem.ts). run.json records the checked problem, so a resumed run reads it the
// same way.
import { EmonasError } from '../base/errors.ts';
import { DEFAULT_FORMULA, type FormulaProblemConfig } from './formula-problem.ts';

export interface FormulaProblem extends FormulaProblemConfig {
  kind: 'formula';
  /** Milliseconds each evaluation takes, to watch a demo run or interrupt one. */
  delayMs: number;
}

/** A problem is a JSON object whatever its kind; anything else is refused with an example. */
export function problemObject(value: unknown): Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new EmonasError(
      'bad_request',
      'A problem is an object, e.g. {"kind": "dataset", "dataset": "/data/Task04_Hippocampus"}.',
    );
  }
  return value as Record<string, unknown>;
}

/** The formula problem's settings from user input, each checked, the others at their defaults. */
export function parseFormulaProblem(value: unknown = {}): FormulaProblem {
  const { kind = 'formula', ...rest } = problemObject(value);
  if (kind !== 'formula') {
    throw new EmonasError(
      'bad_request',
      `Unknown problem kind ${JSON.stringify(kind)}; use "dataset" (with a dataset folder) or "formula".`,
    );
  }
  const problem: FormulaProblem = { kind: 'formula', ...DEFAULT_FORMULA, delayMs: 0 };
  for (const [key, v] of Object.entries(rest)) {
    if (!(key in problem)) {
      throw new EmonasError(
        'bad_request',
        `The formula problem has no setting ${key}; it has noise, noiseSeed, divergence and delayMs.`,
      );
    }
    const expected = typeof problem[key as keyof FormulaProblem];
    if (typeof v !== expected || (typeof v === 'number' && !(Number.isFinite(v) && v >= 0))) {
      throw new EmonasError(
        'bad_request',
        `Setting ${key} of the formula problem must be a ${expected === 'number' ? 'non-negative number' : expected}.`,
      );
    }
    (problem as unknown as Record<string, unknown>)[key] = v;
  }
  return problem;
}
