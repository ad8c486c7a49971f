// Runs in: the engine. The dataset manifest run.json records: every file of the cases a search trains and
// validates on, with its size and a SHA-256, so a run can later be checked against the data it was made
// from. A MetaImage header (.mhd) brings its separate voxel file along; files above HASH_LIMIT are hashed
// over their first HASH_LIMIT bytes only (with their full size), so a large dataset costs seconds, not
// minutes, when a search starts.
import { createHash } from 'node:crypto';
import { open, readFile, stat } from 'node:fs/promises';
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

/**
 * Files are read in pieces this large into one buffer per worker: with a read stream's 64 KiB chunks and a
 * new buffer per file, a search start hashed about half as fast as Python's hashlib (bench/hash-cost).
 */
const READ_CHUNK = 1024 * 1024;

async function hashFile(file: string, bytes: number, buffer: Buffer): Promise<string> {
  const hash = createHash('sha256');
  const handle = await open(file, 'r');
  try {
    for (let at = 0; at < bytes;) {
      const { bytesRead } = await handle.read(buffer, 0, Math.min(buffer.length, bytes - at), at);
      if (bytesRead === 0) throw new Error(`it ended after ${at} of its ${bytes} bytes while being read`);
      hash.update(buffer.subarray(0, bytesRead));
      at += bytesRead;
    }
  } finally {
    await handle.close();
  }
  return hash.digest('hex');
}

/** The files an image path stands for: itself, and a MetaImage header's separate voxel file. */
async function withDataFile(file: string): Promise<string[]> {
  if (!file.toLowerCase().endsWith('.mhd')) return [file];
  const header = parseMetaImageHeader(await readFile(file), file, true);
  if (header === undefined || header.dataFile === 'LOCAL') return [file];
  return [file, resolve(dirname(file), header.dataFile)];
}

async function describe(root: string, file: string, limit: number, buffer: Buffer): Promise<DatasetFile> {
  let bytes: number;
  let sha256: string;
  try {
    bytes = (await stat(file)).size;
    const hashed = Math.min(bytes, limit);
    sha256 = hashed === 0 ? createHash('sha256').digest('hex') : await hashFile(file, hashed, buffer);
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

/**
 * Cases hashed at once, so reading one file (from the disk, on the thread pool) overlaps hashing another on
 * this thread: with a cold page cache the large datasets of bench/hash-cost took a quarter to a third less.
 */
const CASES_IN_FLIGHT = 4;

/** Sizes and hashes of each case's files (image, label), in the order given; `limit` is for tests. */
export async function datasetFiles(
  root: string,
  cases: readonly { id: string; files: readonly string[] }[],
  limit = HASH_LIMIT,
): Promise<DatasetCaseFiles[]> {
  const out: DatasetCaseFiles[] = new Array<DatasetCaseFiles>(cases.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    const buffer = Buffer.allocUnsafe(READ_CHUNK);
    while (next < cases.length) {
      const at = next++;
      const c = cases[at] as (typeof cases)[number];
      try {
        const paths = (await Promise.all(c.files.map(withDataFile))).flat();
        const files: DatasetFile[] = [];
        for (const path of paths) files.push(await describe(root, path, limit, buffer));
        out[at] = { id: c.id, files };
      } catch (err) {
        // The first unreadable file ends the step: the other workers take no further case.
        next = cases.length;
        throw err;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(CASES_IN_FLIGHT, cases.length) }, worker));
  return out;
}
