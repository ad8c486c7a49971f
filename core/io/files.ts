// Runs in: any process. Partial file reads, JSON reads (with a fallback, or with the caller's errors),
// atomic writes (the one implementation every folder uses) and compression for the image writers (bounded
// decompression is in bounded-read.ts), with every way a file can be missing, short or unwritable turned
// into an EmonasError that names it.
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { open, readdir, readFile, rename, rm } from 'node:fs/promises';
import { hostname } from 'node:os';
import { basename, join } from 'node:path';
import { promisify } from 'node:util';
import zlib from 'node:zlib';
import { EmonasError } from '../base/errors.ts';
import { processExists } from '../base/process-exists.ts';

const gzipAsync = promisify(zlib.gzip);
const deflateAsync = promisify(zlib.deflate);

/** The file's name for messages; the full path travels in the error's `file`. */
export function nameOf(file: string): string {
  return basename(file);
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
 * Unique per call, host and process: the same file may be written twice at once (an index updated by
 * concurrent jobs, a Slurm task requeued onto another node while the first still runs).
 */
function temporaryName(file: string): string {
  return `${file}.${hostname()}.${process.pid}.${++writes}.partial`;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * Removes the temporary files that writes of the named files in `dir` left when their process was killed
 * mid-write (a worker killed while saving its checkpoint leaves one the size of the checkpoint): those of
 * this host whose process is gone. Another host's are kept, since its processes cannot be probed from here
 * (a Slurm task may still be writing on another node); naming the files keeps a host name that ends another
 * host's (node1.cluster.local and cluster.local) from matching. Resolves with how many were removed.
 */
export async function removeStalePartials(dir: string, files: readonly string[]): Promise<number> {
  const host = escapeRegExp(hostname());
  const patterns = files.map((f) => new RegExp(`^${escapeRegExp(f)}\\.${host}\\.(\\d+)\\.\\d+\\.partial$`));
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return 0;
  }
  const stale = names.filter((name) => {
    const pid = Number(patterns.map((p) => p.exec(name)?.[1]).find((m) => m !== undefined) ?? 0);
    return pid > 0 && pid !== process.pid && !processExists(pid);
  });
  await Promise.all(stale.map((name) => rm(join(dir, name), { force: true })));
  return stale.length;
}

function writeFailure(file: string, err: unknown): EmonasError {
  const code = (err as { code?: unknown } | null)?.code;
  const name = nameOf(file);
  if (code === 'ENOSPC') {
    return new EmonasError('disk_full', `The disk is full: ${name} could not be written.`, { file });
  }
  if (code === 'ENOENT') {
    return new EmonasError('not_found', `${name} cannot be written: its folder does not exist.`, { file });
  }
  if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS') {
    return new EmonasError('bad_request', `${name} cannot be written: permission denied.`, { file });
  }
  return new EmonasError('internal', `${name} could not be written: ${(err as Error).message}.`, {
    file,
    cause: err,
  });
}

/**
 * Writes through a temporary file and a rename, so an interrupted write never leaves a half-written file
 * under the real name; a full disk or a refused write becomes an EmonasError naming the file. With `fsync`
 * the data reaches the disk before the rename, so a power cut leaves the old file or the new one (a
 * training checkpoint, which a resume must be able to trust).
 */
export async function writeFileAtomic(
  file: string,
  bytes: Uint8Array | string,
  options: { fsync?: boolean } = {},
): Promise<void> {
  const temporary = temporaryName(file);
  try {
    const handle = await open(temporary, 'w');
    try {
      await handle.writeFile(bytes);
      if (options.fsync === true) await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temporary, file);
  } catch (err) {
    await rm(temporary, { force: true });
    throw writeFailure(file, err);
  }
}

/**
 * writeFileAtomic for callers that cannot wait (run.json, the run tables, a worker registry). With `fsync`
 * the data also reaches the disk before the rename, so readers on other nodes of a shared file system see
 * the old file or the new one, never half of one (the files a Slurm job step shares with the coordinator); it
 * costs a disk flush per write, too much for files rewritten after every evaluation.
 */
export function writeFileAtomicSync(
  file: string,
  bytes: Uint8Array | string,
  options: { fsync?: boolean } = {},
): void {
  const temporary = temporaryName(file);
  try {
    const fd = openSync(temporary, 'w');
    try {
      writeFileSync(fd, bytes);
      if (options.fsync === true) fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temporary, file);
  } catch (err) {
    rmSync(temporary, { force: true });
    throw writeFailure(file, err);
  }
}

/** A JSON file's contents, or undefined when it is missing, unreadable or not JSON. */
export async function readJson(file: string): Promise<unknown> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as unknown;
  } catch {
    return undefined;
  }
}

/** readJson for callers that cannot wait (a Slurm job step's result and checkpoint files). */
export function readJsonSync(file: string): unknown {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as unknown;
  } catch {
    return undefined;
  }
}

/** Why a JSON file was refused: it cannot be read, or it is not JSON (`detail`: the parser's words). */
export type JsonFileProblem = { kind: 'unreadable' } | { kind: 'invalid'; detail: string };

/**
 * A JSON file's value, for a caller whose errors say what the file is for: `refuse` turns a file that
 * cannot be read or is not JSON into the error to throw (a missing file and a damaged one want different
 * advice).
 */
export async function readJsonFile(
  file: string,
  refuse: (problem: JsonFileProblem) => Error,
): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    throw refuse({ kind: 'unreadable' });
  }
  return parseJsonText(text, refuse);
}

/** readJsonFile for callers that cannot wait (a Slurm job step's task file, a --slurm-config file). */
export function readJsonFileSync(file: string, refuse: (problem: JsonFileProblem) => Error): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    throw refuse({ kind: 'unreadable' });
  }
  return parseJsonText(text, refuse);
}

function parseJsonText(text: string, refuse: (problem: JsonFileProblem) => Error): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw refuse({ kind: 'invalid', detail: (err as Error).message });
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

export async function gzip(bytes: Uint8Array): Promise<Buffer> {
  return gzipAsync(bytes, { level: 6 });
}

export async function deflate(bytes: Uint8Array): Promise<Buffer> {
  return deflateAsync(bytes, { level: 6 });
}
