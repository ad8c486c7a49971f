// Runs in: the engine. The images a prediction reads: an image file, every image file of a folder, or one
// side of the split a model folder was trained with, taken from its dataset folder. Shared by `emonas
// predict` and the app's apply-to-scans so both accept and refuse the same inputs.
import { readFile, readdir, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { EmonasError } from '../../base/errors.ts';
import { importDataset } from '../../datasets/import.ts';
import { IMAGE_EXTENSIONS } from '../../io/volume-files.ts';

function isImageName(name: string): boolean {
  const lower = name.toLowerCase();
  // macOS AppleDouble companions ("._x.nii.gz") and hidden files match the extensions but are not images.
  if (name.startsWith('.')) return false;
  return IMAGE_EXTENSIONS.some((ext) => lower.endsWith(ext));
}

export async function listInputImages(input: string): Promise<string[]> {
  let info;
  try {
    info = await stat(input);
  } catch {
    throw new EmonasError('not_found', `The input ${input} does not exist.`, { file: input });
  }
  if (info.isFile()) {
    if (!isImageName(basename(input))) {
      throw new EmonasError(
        'unsupported_format',
        `${input} is not an image file this program reads (${IMAGE_EXTENSIONS.join(', ')}).`,
        { file: input },
      );
    }
    return [input];
  }
  const names = (await readdir(input)).filter(isImageName).sort();
  if (names.length === 0) {
    throw new EmonasError(
      'not_found',
      `The folder ${input} holds no image files (${IMAGE_EXTENSIONS.join(', ')}).`,
      {
        file: input,
      },
    );
  }
  return names.map((n) => join(input, n));
}

/** The images of one side of the split a model was trained with, from its dataset folder. */
export async function splitImages(
  modelDir: string,
  dataset: string,
  side: 'train' | 'val' | 'test',
): Promise<string[]> {
  const file = join(modelDir, 'split.json');
  let ids: unknown;
  try {
    ids = (JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>)[side];
  } catch {
    throw new EmonasError(
      'not_found',
      `${file} is missing or damaged, so the model's ${side} cases are unknown.`,
      { file },
    );
  }
  if (!Array.isArray(ids)) {
    throw new EmonasError('unreadable_file', `${file} has no list of ${side} cases.`, { file });
  }
  const wanted = new Set(ids as string[]);
  const { cases } = await importDataset(dataset);
  const images = cases.filter((c) => wanted.has(c.id)).map((c) => c.image);
  if (images.length !== wanted.size) {
    throw new EmonasError(
      'invalid_dataset',
      `The dataset folder ${dataset} lacks ${wanted.size - images.length} of the ${wanted.size} ${side} cases in ${file}; give the folder the model was trained on.`,
      { file: dataset },
    );
  }
  return images.sort();
}
