// Runs in: any process. Whole and partial file reads, atomic writes and (de)compression for the image
// readers and writers, with every way a file can be missing, short, damaged or unwritable turned into an
// EmonasError that names it.
import { open, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { promisify } from 'node:util';
import zlib from 'node:zlib';
import { EmonasError } from '../base/errors.ts';

const gunzipAsync = promisify(zlib.gunzip);
const unzipAsync = promisify(zlib.unzip);
const gzipAsync = promisify(zlib.gzip);
const deflateAsync = promisify(zlib.deflate);

/** The file's name for messages; the full path travels in the error's `file`. */
export function nameOf(file: string): string {
  return basename(file);
}

export async function readWholeFile(file: string): Promise<Buffer> {
  try {
    return await readFile(file);
  } catch (err) {
    throw readFailure(file, err);
  }
}

/** Up to `length` bytes from `position`, and the file's size. */
export async function readFileRange(
  file: string,
  position: number,
  length: number,
): Promise<{ bytes: Buffer; size: number }> {
  let handle;
  try {
    handle = await open(file, 'r');
    const { size } = await handle.stat();
    const wanted = Math.max(0, Math.min(length, size - position));
    const bytes = Buffer.alloc(wanted);
    let done = 0;
    while (done < wanted) {
      const { bytesRead } = await handle.read(bytes, done, wanted - done, position + done);
      if (bytesRead === 0) break;
      done += bytesRead;
    }
    return { bytes: bytes.subarray(0, done), size };
  } catch (err) {
    throw readFailure(file, err);
  } finally {
    await handle?.close();
  }
}

function readFailure(file: string, err: unknown): EmonasError {
  if (err instanceof EmonasError) return err;
  const code = (err as { code?: unknown } | null)?.code;
  const name = nameOf(file);
  if (code === 'ENOENT') {
    return new EmonasError('not_found', `${name} does not exist; check the path, or whether it was moved.`, {
      file,
    });
  }
  if (code === 'EISDIR') {
    return new EmonasError('unsupported_format', `${name} is a folder, not an image file.`, { file });
  }
  if (code === 'EACCES' || code === 'EPERM') {
    return new EmonasError('unreadable_file', `${name} cannot be read: permission denied.`, { file });
  }
  return new EmonasError('unreadable_file', `${name} cannot be read: ${(err as Error).message}.`, {
    file,
    cause: err,
  });
}

let writes = 0;

/**
 * Writes through a temporary file and a rename, so an interrupted write never leaves a half-written file
 * under the real name; a full disk or a refused write becomes an EmonasError naming the file.
 */
export async function writeFileAtomic(file: string, bytes: Uint8Array | string): Promise<void> {
  // Unique per call: the same file may be written twice at once (an index updated by concurrent jobs).
  const temporary = `${file}.${process.pid}.${++writes}.partial`;
  try {
    await writeFile(temporary, bytes);
    await rename(temporary, file);
  } catch (err) {
    await rm(temporary, { force: true });
    const code = (err as { code?: unknown } | null)?.code;
    const name = nameOf(file);
    if (code === 'ENOSPC') {
      throw new EmonasError('disk_full', `The disk is full: ${name} could not be written.`, { file });
    }
    if (code === 'ENOENT') {
      throw new EmonasError('not_found', `${name} cannot be written: its folder does not exist.`, { file });
    }
    if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS') {
      throw new EmonasError('bad_request', `${name} cannot be written: permission denied.`, { file });
    }
    throw new EmonasError('internal', `${name} could not be written: ${(err as Error).message}.`, {
      file,
      cause: err,
    });
  }
}

/** A JSON file written as writeFileAtomic writes, two-space indented with a final newline. */
export async function writeJsonAtomic(file: string, value: unknown): Promise<void> {
  await writeFileAtomic(file, JSON.stringify(value, null, 2) + '\n');
}

/** The first bytes of a macOS AppleDouble companion ("._name"): resource data, never an image. */
const APPLE_DOUBLE_MAGIC = [0x00, 0x05, 0x16, 0x07];

export function rejectAppleDouble(bytes: Uint8Array, file: string): void {
  if (bytes.length < 4 || APPLE_DOUBLE_MAGIC.some((b, i) => bytes[i] !== b)) return;
  throw new EmonasError(
    'unsupported_format',
    `${nameOf(file)} is a macOS AppleDouble companion file (made when a Mac copies or archives files), not an image; delete it or leave it out of the dataset.`,
    { file },
  );
}

export function isGzip(bytes: Uint8Array): boolean {
  return bytes[0] === 0x1f && bytes[1] === 0x8b;
}

/** The uncompressed length a gzip trailer records (modulo 2^32, and of the last member only). */
export function gzipRecordedSize(lastFourBytes: Uint8Array): number {
  return new DataView(lastFourBytes.buffer, lastFourBytes.byteOffset, 4).getUint32(0, true);
}

export async function gunzipWhole(bytes: Uint8Array, file: string): Promise<Buffer> {
  try {
    return await gunzipAsync(bytes);
  } catch (err) {
    throw compressionFailure(file, err, 'gzip');
  }
}

/** Inflates zlib or gzip data (MetaImage's CompressedData). */
export async function inflateWhole(bytes: Uint8Array, file: string): Promise<Buffer> {
  try {
    return await unzipAsync(bytes);
  } catch (err) {
    throw compressionFailure(file, err, 'zlib');
  }
}

/**
 * Decompresses as much as the given leading bytes of a gzip file hold, so a header can be read without
 * inflating the voxels behind it.
 */
export function gunzipStart(bytes: Uint8Array, file: string): Buffer {
  try {
    return zlib.gunzipSync(bytes, { finishFlush: zlib.constants.Z_SYNC_FLUSH });
  } catch (err) {
    throw compressionFailure(file, err, 'gzip');
  }
}

function compressionFailure(file: string, err: unknown, kind: string): EmonasError {
  const name = nameOf(file);
  if ((err as { code?: unknown }).code === 'Z_BUF_ERROR') {
    return new EmonasError(
      'unreadable_file',
      `${name} ends early: its compressed data is truncated (an interrupted copy or download?); copy it again from the source.`,
      { file },
    );
  }
  return new EmonasError(
    'unreadable_file',
    `${name} is damaged: its ${kind} data cannot be decompressed (${(err as Error).message}); copy it again from the source.`,
    { file },
  );
}

export async function gzip(bytes: Uint8Array): Promise<Buffer> {
  return gzipAsync(bytes, { level: 6 });
}

export async function deflate(bytes: Uint8Array): Promise<Buffer> {
  return deflateAsync(bytes, { level: 6 });
}
