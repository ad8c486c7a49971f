// Runs in: the engine. Where an export may write, one rule for every export (predictions, the network, the
// report): a full path, and no existing file replaced unless the request says `overwrite`.
import { existsSync, statSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { EmonasError } from '../base/errors.ts';

export function requireAbsolute(path: string, what: string): string {
  if (!isAbsolute(path)) {
    throw new EmonasError(
      'bad_request',
      `The ${what} '${path}' is not a full path; give it from the top, e.g. /home/me/exports.`,
      { file: path },
    );
  }
  return resolve(path);
}

function refuseExisting(file: string, overwrite: boolean): void {
  if (overwrite || !existsSync(file)) return;
  throw new EmonasError(
    'exists',
    `${file} already exists; choose another place, or ask for the export again with overwrite to replace it.`,
    { file },
  );
}

/**
 * Creates the export folder (and the folders above it) and checks that none of the files about to be
 * written there exists yet, unless `overwrite`.
 */
export async function prepareExportFolder(
  folder: string,
  names: readonly string[],
  overwrite = false,
): Promise<void> {
  if (existsSync(folder) && !statSync(folder).isDirectory()) {
    throw new EmonasError('bad_request', `${folder} is a file, not a folder; give a folder to export into.`, {
      file: folder,
    });
  }
  await mkdir(folder, { recursive: true });
  for (const name of names) refuseExisting(join(folder, name), overwrite);
}

/**
 * Checks a single export file's place: its folder must exist already (a mistyped folder is an error, not
 * created silently), and the file must not exist yet unless `overwrite`.
 */
export function prepareExportFile(file: string, overwrite = false): void {
  const folder = dirname(file);
  if (!existsSync(folder)) {
    throw new EmonasError(
      'not_found',
      `The folder ${folder} does not exist, so ${file} cannot be written there; create it first or choose another folder.`,
      { file },
    );
  }
  if (!statSync(folder).isDirectory()) {
    throw new EmonasError('bad_request', `${folder} is a file, not a folder, so ${file} cannot be written.`, {
      file,
    });
  }
  if (existsSync(file) && statSync(file).isDirectory()) {
    throw new EmonasError('bad_request', `${file} is a folder; give the name of a file to write.`, { file });
  }
  refuseExisting(file, overwrite);
}
