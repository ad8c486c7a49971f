// Runs in: the engine. Looking at a dataset folder without ever throwing on what a real disk holds:
// macOS junk, folders named like files, empty files, unreadable files and symbolic link loops; and which
// files lie outside it, never to be opened.
import { access, constants, readdir, stat } from 'node:fs/promises';
import { join, relative, isAbsolute, sep } from 'node:path';
import { outsideReason, type FileScope } from '../io/file-scope.ts';
import type { CaseProblem } from './case-table.ts';

export type EntryKind = 'file' | 'folder' | 'broken';

export interface FolderEntry {
  name: string;
  path: string;
  kind: EntryKind;
}

/** Names that macOS archivers add next to real files: `._x` AppleDouble companions, .DS_Store, __MACOSX. */
export function isJunkName(name: string): boolean {
  return name.startsWith('._') || name === '.DS_Store' || name === '__MACOSX';
}

/**
 * How a file is named in messages: relative to the dataset folder when inside it, so lines stay short; the
 * full path when `root` is empty or the file lies elsewhere.
 */
export function displayPath(root: string, file: string): string {
  if (root === '') return file;
  const rel = relative(root, file);
  if (rel === '' || rel.startsWith('..') || isAbsolute(rel)) return file;
  return rel.split(sep).join('/');
}

/**
 * The entries of a folder, junk left out, sorted by name; symbolic links are followed so a linked file
 * counts as a file, and a link that leads nowhere (or to itself) is 'broken'. An unreadable folder lists
 * as empty: the caller reports what it then cannot find.
 */
export async function listFolder(dir: string): Promise<FolderEntry[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return [];
  }
  const entries = await Promise.all(
    names
      .filter((name) => !isJunkName(name))
      .map(async (name): Promise<FolderEntry> => {
        const path = join(dir, name);
        try {
          const s = await stat(path);
          return { name, path, kind: s.isDirectory() ? 'folder' : s.isFile() ? 'file' : 'broken' };
        } catch {
          return { name, path, kind: 'broken' };
        }
      }),
  );
  return entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** Why a folder cannot be listed, as a sentence, or null when it can. */
export async function unlistableReason(root: string, dir: string): Promise<string | null> {
  try {
    await readdir(dir);
    return null;
  } catch (err) {
    return describeFsError(err, root, dir);
  }
}

export async function isFolder(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return false;
  }
}

/** A sentence for a file-system error on `file`, naming it as the user sees it. */
export function describeFsError(err: unknown, root: string, file: string): string {
  const name = displayPath(root, file);
  const code = (err as { code?: unknown } | null)?.code;
  switch (code) {
    case 'ENOENT':
      return `${name} does not exist.`;
    case 'EACCES':
    case 'EPERM':
      return `${name} cannot be read: permission denied. Give your user read access to it.`;
    case 'ELOOP':
      return `${name} is a symbolic link that loops back on itself; point it at a real file.`;
    case 'EISDIR':
      return `${name} is a folder, but a file was expected here.`;
    case 'ENOTDIR':
      return `${name} cannot be reached: part of its path is a file, not a folder.`;
    default:
      return `${name} cannot be read: ${err instanceof Error ? err.message : String(err)}`;
  }
}

/**
 * Checks that `file` is a non-empty regular file before a reader is pointed at it; the problem says why
 * not, or null when it is fine. `absentMessage` words the common case of a file that is simply missing.
 */
export async function checkFile(
  root: string,
  file: string,
  absentMessage?: string,
): Promise<CaseProblem | null> {
  try {
    const s = await stat(file);
    if (s.isDirectory()) return { message: describeFsError({ code: 'EISDIR' }, root, file), file };
    if (!s.isFile()) return { message: `${displayPath(root, file)} is not a regular file.`, file };
    if (s.size === 0) {
      return {
        message: `${displayPath(root, file)} is empty (0 bytes); copy it again from the original archive.`,
        file,
      };
    }
    await access(file, constants.R_OK);
    return null;
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    if (code === 'ENOENT' && absentMessage !== undefined) return { message: absentMessage, file };
    return { message: describeFsError(err, root, file), file };
  }
}

/**
 * The problem of a file that lies outside the dataset folder (as written, or through a symbolic link the
 * user did not allow), or null when it may be opened.
 */
export async function outsideProblem(scope: FileScope, file: string): Promise<CaseProblem | null> {
  const reason = await outsideReason(scope, file);
  return reason === null ? null : { message: `${displayPath(scope.root, file)} ${reason}.`, file };
}
