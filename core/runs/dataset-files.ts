// Runs in: the engine. The dataset manifest run.json records: every file of the cases a search trains and
// validates on, with its size and a SHA-256, so a run can later be checked against the data it was made
// from. A MetaImage header (.mhd) brings its separate voxel file along; files above HASH_LIMIT are hashed
// over their first HASH_LIMIT bytes only (with their full size), so a large dataset costs seconds, not
// minutes, when a search starts.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { dirname, isAbsolute, relative, resolve } from 'node:path';
import { EmonasError } from '../base/errors.ts';
import { parseMetaImageHeader } from '../io/metaimage-header.ts';

/** Files up to this size are hashed whole. */
export const HASH_LIMIT = 64 * 1024 * 1024;

export interface DatasetFile {
  /** Relative to the dataset folder (absolute when the file lies outside it). */
  path: string;
  bytes: number;
  sha256: string;
  /** Set when only the file's first bytes were hashed (files above the limit, HASH_LIMIT). */
  hashedBytes?: number;
}

export interface DatasetCaseFiles {
  id: string;
  files: DatasetFile[];
}

async function hashFile(file: string, bytes: number): Promise<string> {
  const hash = createHash('sha256');
  const stream = createReadStream(file, { end: bytes - 1 });
  for await (const chunk of stream) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** The files an image path stands for: itself, and a MetaImage header's separate voxel file. */
async function withDataFile(file: string): Promise<string[]> {
  if (!file.toLowerCase().endsWith('.mhd')) return [file];
  const header = parseMetaImageHeader(await readFile(file), file, true);
  if (header === undefined || header.dataFile === 'LOCAL') return [file];
  return [file, resolve(dirname(file), header.dataFile)];
}

async function describe(root: string, file: string, limit: number): Promise<DatasetFile> {
  let bytes: number;
  let sha256: string;
  try {
    bytes = (await stat(file)).size;
    const hashed = Math.min(bytes, limit);
    sha256 = hashed === 0 ? createHash('sha256').digest('hex') : await hashFile(file, hashed);
  } catch (err) {
    throw new EmonasError(
      'unreadable_file',
      `${file} could not be read to record it in run.json: ${(err as Error).message}`,
      { file },
    );
  }
  const inside = relative(root, file);
  return {
    path: inside.startsWith('..') || isAbsolute(inside) ? file : inside,
    bytes,
    sha256,
    ...(bytes > limit && { hashedBytes: limit }),
  };
}

/** Sizes and hashes of each case's files (image, label), in the order given; `limit` is for tests. */
export async function datasetFiles(
  root: string,
  cases: readonly { id: string; files: readonly string[] }[],
  limit = HASH_LIMIT,
): Promise<DatasetCaseFiles[]> {
  const out: DatasetCaseFiles[] = [];
  for (const c of cases) {
    const paths = (await Promise.all(c.files.map(withDataFile))).flat();
    const files: DatasetFile[] = [];
    for (const path of paths) files.push(await describe(root, path, limit));
    out.push({ id: c.id, files });
  }
  return out;
}
