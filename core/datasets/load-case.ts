// Runs in: the engine or a training worker. Loads one case of the case table for training: the image and its
// label map as integer classes on the image's grid.
import { EmonasError } from '../base/errors.ts';
import type { FileScope, ReadOptions } from '../io/file-scope.ts';
import { readVolume } from '../io/volume-files.ts';
import type { Volume } from '../io/volume.ts';
import type { CaseEntry } from './case-table.ts';
import { gridDifferences } from './grid.ts';
import { toIntegerLabels } from './labels.ts';
import { readFailure } from './validate.ts';

/**
 * A case's image and, when it has one, its label map with class numbers as integers (Uint8Array when every
 * value fits in 0..255) on the image's grid, ready for training. With the dataset's scope (what a client
 * asks for must take it), a file outside the dataset folder is refused before it is opened.
 */
export async function loadCase(
  entry: CaseEntry,
  scope?: FileScope,
): Promise<{ image: Volume; label?: Volume }> {
  const options: ReadOptions = scope ? { scope } : {};
  const image = await readOrThrow(entry.image, options);
  if (entry.label === undefined) return { image };
  const label = toIntegerLabels(await readOrThrow(entry.label, options), entry.label);
  const differences = gridDifferences(image, label);
  if (differences.length > 0) {
    throw new EmonasError(
      'geometry_mismatch',
      `The label map ${entry.label} is not on the grid of its image ${entry.image}: ${differences.join('; ')}.`,
      { file: entry.label },
    );
  }
  return { image, label };
}

async function readOrThrow(file: string, options: ReadOptions): Promise<Volume> {
  try {
    return await readVolume(file, options);
  } catch (err) {
    if (err instanceof EmonasError) throw err;
    throw new EmonasError('unreadable_file', readFailure(err, '', file), { file, cause: err });
  }
}
