// Runs in: any process. Reading voxel data no further than a header declares. A compressed stream is
// inflated chunk by chunk and stopped one byte past what the header declares, so a small file that inflates
// to gigabytes (zeros appended to a gzip stream) costs no more memory than its declared volume, and a header
// that declares more than its file can hold is refused before anything is allocated.
import { constants as bufferConstants } from 'node:buffer';
import { createReadStream } from 'node:fs';
import zlib from 'node:zlib';
import { EmonasError } from '../base/errors.ts';
import { nameOf } from './files.ts';
import type { VolumeHeader } from './volume-header.ts';
import { voxelCount } from './volume.ts';
import { bytesPerVoxel } from './voxel-types.ts';

/** deflate's best ratio is 1032:1, so a stream cannot inflate to more than this per compressed byte. */
const MAX_DEFLATE_RATIO = 1032;

/** The most voxel bytes one file may declare: what one Buffer can hold. */
export const MAX_DATA_BYTES = bufferConstants.MAX_LENGTH;

/**
 * zlib inflates each written chunk to its end before it looks at backpressure, so the compressed chunks fed
 * to it are small: 4 KiB inflate to at most 4 MiB, the fixed margin above the declared volume.
 */
const INPUT_CHUNK_BYTES = 4 * 1024;
const OUTPUT_CHUNK_BYTES = 64 * 1024;

export interface Inflated {
  /** The first min(produced, limit) bytes, when they were kept. */
  bytes: Buffer | null;
  /** Bytes the stream produced; counting stops at limit + 1. */
  produced: number;
  /** Bytes of the range after the end of the compressed data (0 when stopped at the limit). */
  trailing: number;
}

/** The bytes [start, end) of `path`, which hold the voxels of the image `file`, called `name` in messages. */
export interface DataSource {
  path: string;
  start: number;
  end: number;
  file: string;
  name: string;
}

/**
 * Inflates the gzip or zlib stream in `source`, keeping (when `keep`) at most `limit` bytes and stopping as
 * soon as the stream produces more than `limit`.
 */
export async function inflateRange(source: DataSource, limit: number, keep: boolean): Promise<Inflated> {
  const range = source;
  if (range.end <= range.start) throw truncatedStream(source);
  const input = createReadStream(source.path, {
    start: range.start,
    end: range.end - 1,
    highWaterMark: INPUT_CHUNK_BYTES,
  });
  const inflater = zlib.createUnzip({ chunkSize: OUTPUT_CHUNK_BYTES });
  input.on('error', (err) => inflater.destroy(err));
  input.pipe(inflater);
  const out = keep ? Buffer.allocUnsafe(limit) : null;
  let produced = 0;
  try {
    for await (const chunk of inflater as AsyncIterable<Buffer>) {
      out?.set(chunk.subarray(0, Math.max(0, limit - produced)), produced);
      produced += chunk.length;
      if (produced > limit) break;
    }
  } catch (err) {
    throw streamFailure(source, err);
  } finally {
    input.destroy();
    inflater.destroy();
  }
  const stopped = produced > limit;
  return {
    bytes: out === null ? null : out.subarray(0, Math.min(produced, limit)),
    produced: Math.min(produced, limit + 1),
    trailing: stopped ? 0 : range.end - range.start - inflater.bytesWritten,
  };
}

function truncatedStream({ file, name }: DataSource): EmonasError {
  return new EmonasError(
    'unreadable_file',
    `${name} ends early: its compressed data is truncated (an interrupted copy or download?); copy it again from the source.`,
    { file },
  );
}

function streamFailure(source: DataSource, err: unknown): EmonasError {
  if (err instanceof EmonasError) return err;
  const code = (err as { code?: unknown } | null)?.code;
  const { file, name } = source;
  if (code === 'Z_BUF_ERROR') return truncatedStream(source);
  if (code === 'ENOENT') {
    return new EmonasError('not_found', `${name} does not exist; check the path, or whether it was moved.`, {
      file,
    });
  }
  if (typeof code === 'string' && code.startsWith('Z_')) {
    return new EmonasError(
      'unreadable_file',
      `${name} is damaged: its compressed data cannot be decompressed (${(err as Error).message}); copy it again from the source.`,
      { file },
    );
  }
  return new EmonasError('unreadable_file', `${name} cannot be read: ${(err as Error).message}.`, {
    file,
    cause: err,
  });
}

/** "35×51×35 float32" or "216×256×10×30 int16": the grid a header declares, for messages. */
export function declaredGrid(header: Pick<VolumeHeader, 'shape' | 'frames' | 'dataType'>): string {
  return `${header.shape.join('×')}${header.frames > 1 ? `×${header.frames}` : ''} ${header.dataType}`;
}

/**
 * The voxel bytes a header declares, refused with a sentence when no file could hold them (a damaged or
 * hostile header): more than one buffer holds, or more than `compressedBytes` can inflate to.
 */
export function declaredDataBytes(
  header: Pick<VolumeHeader, 'file' | 'shape' | 'frames' | 'dataType'>,
  compressedBytes?: number,
): number {
  const bytes = voxelCount(header.shape) * header.frames * bytesPerVoxel(header.dataType);
  const name = nameOf(header.file);
  if (!Number.isSafeInteger(bytes) || bytes > MAX_DATA_BYTES) {
    throw new EmonasError(
      'unreadable_file',
      `${name} declares ${declaredGrid(header)} voxels (${bytes} bytes), more than one image file can hold ` +
        `(at most ${MAX_DATA_BYTES} bytes): its header is damaged.`,
      { file: header.file },
    );
  }
  if (compressedBytes !== undefined && bytes > compressedBytes * MAX_DEFLATE_RATIO) {
    throw new EmonasError(
      'unreadable_file',
      `${name} declares ${declaredGrid(header)} voxels (${bytes} bytes), more than its ${compressedBytes} ` +
        'compressed bytes can hold: its header is damaged or the file is truncated.',
      { file: header.file },
    );
  }
  return bytes;
}

/** The sentence for data past what the header declares; `what` says where it was found. */
export function trailingDataFailure(
  header: Pick<VolumeHeader, 'file' | 'shape' | 'frames' | 'dataType'>,
  what: string,
): EmonasError {
  return new EmonasError(
    'unreadable_file',
    `${nameOf(header.file)} holds more than its header declares: ${what} after its ${declaredGrid(header)} ` +
      'voxels (data appended to the file, or a wrong header); it is not read. Copy it again from the source.',
    { file: header.file },
  );
}
