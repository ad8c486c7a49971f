// Runs in: a training worker, or the process that predicts. Reads a case through the dataset importer's
// loader and puts image and label in the canonical LPS orientation the plan works in.
import type { CaseEntry } from '../datasets/case-table.ts';
import type { CanonicalInput } from '../datasets/pipeline/preprocess.ts';
import { toCanonical } from '../io/orientation.ts';
import type { Volume } from '../io/volume.ts';
import { EmonasError } from '../base/errors.ts';
import { loadCase } from '../datasets/load-case.ts';

export function canonicalInput(volume: Volume): CanonicalInput {
  const { volume: canonical } = toCanonical(volume);
  return { data: canonical.data, shape: canonical.shape, spacing: canonical.spacing };
}

export async function loadCanonicalCase(
  entry: CaseEntry,
): Promise<{ image: CanonicalInput; label: CanonicalInput }> {
  const { image, label } = await loadCase(entry);
  if (label === undefined) {
    throw new EmonasError(
      'invalid_dataset',
      `The case ${entry.id} has no label map to train on (${entry.image}).`,
      {
        file: entry.image,
      },
    );
  }
  return { image: canonicalInput(image), label: canonicalInput(label) };
}
