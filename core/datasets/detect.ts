// Runs in: the engine. Tells from a folder's layout which dataset it holds and reads its case table (files
// listed and paired, voxels not yet read), or says in one sentence what was looked for.
import { readdir, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { EmonasError } from '../base/errors.ts';
import type { FileScope } from '../io/file-scope.ts';
import { findAcdcPatients, readAcdcDataset } from './acdc.ts';
import type { DatasetManifest } from './case-table.ts';
import { describeFsError, isFolder, listFolder } from './files.ts';
import { readMsdDataset } from './msd.ts';
import { findPromise12Folders, readPromise12Dataset } from './promise12.ts';

const LOOKED_FOR =
  'looked for dataset.json with imagesTr/labelsTr (Medical Segmentation Decathlon), ' +
  'database/training, training/ or patientNNN folders with Info.cfg (ACDC), ' +
  'and TrainingData_Part1..3, TestData or CaseNN.mhd with CaseNN_segmentation.mhd (PROMISE12)';

export interface LayoutOptions {
  /**
   * Follow symbolic links that lead out of the folder (the user keeps images elsewhere on purpose); without
   * it such a file is a problem of its case and is never opened.
   */
  allowLinks?: boolean;
}

export async function readDatasetLayout(
  folder: string,
  options: LayoutOptions = {},
): Promise<DatasetManifest> {
  const root = resolve(folder);
  try {
    const s = await stat(root);
    if (!s.isDirectory()) {
      throw new EmonasError(
        'invalid_dataset',
        `${root} is a file, not a dataset folder; choose the folder that holds the dataset.`,
        {
          file: root,
        },
      );
    }
    await readdir(root);
  } catch (err) {
    if (err instanceof EmonasError) throw err;
    if ((err as { code?: unknown }).code === 'ENOENT') {
      throw new EmonasError('not_found', `The folder ${root} does not exist.`, { file: root });
    }
    throw new EmonasError('unreadable_file', describeFsError(err, '', root), { file: root });
  }

  const scope: FileScope = { root, allowLinks: options.allowLinks === true };
  const manifest = await readLayout(scope);
  if (scope.allowLinks) manifest.allowLinks = true;
  return manifest;
}

async function readLayout(scope: FileScope): Promise<DatasetManifest> {
  const { root } = scope;
  const entries = await listFolder(root);
  if (entries.some((e) => e.name === 'dataset.json' && e.kind !== 'folder')) return readMsdDataset(scope);
  const patients = await findAcdcPatients(root);
  if (patients) return readAcdcDataset(scope, patients);
  const caseFolders = await findPromise12Folders(root);
  if (caseFolders) return readPromise12Dataset(root, caseFolders);
  if (await isFolder(join(root, 'imagesTr'))) {
    throw new EmonasError(
      'invalid_dataset',
      `${root} has imagesTr but no dataset.json; a Decathlon task needs its dataset.json to name the labels.`,
      { file: join(root, 'dataset.json') },
    );
  }
  throw new EmonasError('invalid_dataset', `${root} is not a dataset folder: ${LOOKED_FOR}.`, { file: root });
}
