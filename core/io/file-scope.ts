// Runs in: any process. The folder a file must lie in before it is opened: a downloaded dataset (or a
// MetaImage header's ElementDataFile) must not be able to make the engine read ~/.ssh or /etc/passwd. A path
// that leaves the folder as written is always refused; a symbolic link that leads out of it is refused
// unless the user allowed links for that folder.
import { realpath } from 'node:fs/promises';
import { isAbsolute, relative, resolve, sep } from 'node:path';
import { EmonasError } from '../base/errors.ts';

export interface FileScope {
  /** Absolute folder every file must lie in. */
  root: string;
  /** Follow symbolic links that lead out of `root`: the user asked for it, keeping images elsewhere. */
  allowLinks: boolean;
}

/**
 * How the readers in core/io open a file: with a scope, the file itself and every file it names must lie in
 * it. Without one, a MetaImage header's data file must still lie in the header's own folder.
 */
export interface ReadOptions {
  scope?: FileScope;
}

/** True when `file` (absolute) is `root` itself or lies under it, comparing the paths as written. */
export function isInside(root: string, file: string): boolean {
  const rel = relative(root, file);
  return rel === '' || !(rel === '..' || rel.startsWith(`..${sep}`) || isAbsolute(rel));
}

/**
 * Why `file` may not be opened under `scope`, as the end of a sentence starting with the file's name, or
 * null when it may. A file that does not exist is fine here: the reader reports it as missing.
 */
export async function outsideReason(scope: FileScope, file: string): Promise<string | null> {
  const root = resolve(scope.root);
  const path = resolve(root, file);
  if (!isInside(root, path)) {
    return `lies outside the folder ${root}, so it is not read (only files inside the folder are)`;
  }
  if (scope.allowLinks) return null;
  const [realRoot, realPath] = await Promise.all([realOrNull(root), realOrNull(path)]);
  if (realRoot === null || realPath === null || isInside(realRoot, realPath)) return null;
  return (
    `leads through a symbolic link to ${realPath}, outside the folder ${root}, so it is not read; ` +
    'if the images are kept elsewhere on purpose, allow links when importing (--allow-links)'
  );
}

/** Throws the EmonasError for a file outside its scope; `name` is how messages show the file. */
export async function assertInside(scope: FileScope, file: string, name: string): Promise<void> {
  const reason = await outsideReason(scope, file);
  if (reason !== null) throw new EmonasError('unreadable_file', `${name} ${reason}.`, { file });
}

async function realOrNull(path: string): Promise<string | null> {
  try {
    return await realpath(path);
  } catch {
    return null;
  }
}
