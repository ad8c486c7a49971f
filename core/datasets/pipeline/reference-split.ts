// Runs in: any process. The reference implementation's fixed PROMISE12 split (method.md 6.1 step 6): the
// first 10 of numpy's RandomState(0).permutation(50) validate, the other 40 train, nothing is held out. It
// is defined by case name, so a folder whose training cases are not exactly Case00..Case49 is refused
// with the names that differ, never split some other way under the reference's name.
import { EmonasError } from '../../base/errors.ts';
import type { DatasetManifest } from '../case-table.ts';
import type { Split } from './split.ts';

/** The 50 PROMISE12 training cases the reference reads (its NumImages = 50). */
export const REFERENCE_PROMISE12_CASES: readonly string[] = Array.from(
  { length: 50 },
  (_, i) => `Case${String(i).padStart(2, '0')}`,
);

/** Sorted first 10 of numpy.random.RandomState(0).permutation(50), as method.md 6.1 lists them. */
export const REFERENCE_PROMISE12_VALIDATION: readonly string[] = [
  'Case02',
  'Case04',
  'Case10',
  'Case11',
  'Case22',
  'Case27',
  'Case28',
  'Case31',
  'Case38',
  'Case41',
];

/** The reference's fixed split of a PROMISE12 dataset; an EmonasError names every case that differs. */
export function referencePromise12Split(manifest: Pick<DatasetManifest, 'kind' | 'root' | 'cases'>): Split {
  if (manifest.kind !== 'promise12') {
    throw new EmonasError(
      'bad_request',
      `The reference protocol's preprocessing and split are defined for PROMISE12 only; ${manifest.root} is a ${manifest.kind} dataset.`,
      { file: manifest.root },
    );
  }
  const training = manifest.cases.filter((c) => c.subset === 'train');
  const byId = new Map(training.map((c) => [c.id, c]));
  const expected = new Set(REFERENCE_PROMISE12_CASES);
  const missing = REFERENCE_PROMISE12_CASES.filter((id) => !byId.has(id));
  const unusable = REFERENCE_PROMISE12_CASES.flatMap((id) => {
    const c = byId.get(id);
    if (c === undefined || (c.ok && c.label !== undefined)) return [];
    return [`${id} (${c.problems[0]?.message ?? 'no segmentation'})`];
  });
  const extra = training.map((c) => c.id).filter((id) => !expected.has(id));
  const differences = [
    missing.length > 0 ? `missing ${missing.join(', ')}` : '',
    unusable.length > 0 ? `unusable ${unusable.join('; ')}` : '',
    extra.length > 0 ? `not in the reference's list ${extra.join(', ')}` : '',
  ].filter((d) => d !== '');
  if (differences.length > 0) {
    throw new EmonasError(
      'invalid_dataset',
      `The reference protocol's fixed split needs exactly the PROMISE12 training cases Case00..Case49, usable and labelled; ${manifest.root} differs: ${differences.join('; ')}. Use the default protocol for other case sets.`,
      { file: manifest.root, details: { missing, unusable, extra } },
    );
  }
  const validation = new Set(REFERENCE_PROMISE12_VALIDATION);
  return {
    valFraction: REFERENCE_PROMISE12_VALIDATION.length / REFERENCE_PROMISE12_CASES.length,
    testFraction: 0,
    seed: 0,
    train: REFERENCE_PROMISE12_CASES.filter((id) => !validation.has(id)),
    val: [...REFERENCE_PROMISE12_VALIDATION],
    test: [],
  };
}
