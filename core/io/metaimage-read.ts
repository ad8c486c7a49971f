// Runs in: any process (the engine reads datasets, a training worker reads its cases). MetaImage reading:
// .mhd with a separate .raw/.zraw data file, or .mha with the voxels after the header; raw or zlib
// compressed, either byte order, 3D or 4D frame by frame. The data file must lie in the header's folder (or
// the given scope), and nothing past the voxels the header declares is read or inflated.
import { stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { EmonasError } from '../base/errors.ts';
import { declaredDataBytes, inflateRange, trailingDataFailure, type DataSource } from './bounded-read.ts';
import { assertInside, type ReadOptions } from './file-scope.ts';
import { nameOf, readFileRange, rejectAppleDouble } from './files.ts';
import { parseMetaImageHeader, type MetaImageHeader } from './metaimage-header.ts';
import { checkFrameIndex, type VolumeFile, type VolumeHeader } from './volume-header.ts';
import { voxelCount } from './volume.ts';
import { bytesPerVoxel, decodeVoxels } from './voxel-types.ts';

/** A header longer than this is not one: the search for its ElementDataFile line stops here. */
const MAX_HEADER_BYTES = 1024 * 1024;

function metaVolumeHeader(h: MetaImageHeader, file: string): VolumeHeader {
  return {
    file,
    format: 'metaimage',
    shape: h.shape,
    frames: h.frames,
    spacing: h.spacing,
    origin: h.origin,
    direction: h.direction,
    dataType: h.dataType,
    scaled: false,
  };
}

/** Where the voxels are, and the size of the file they are in. */
interface DataRange extends DataSource {
  size: number;
}

interface MetaStart {
  h: MetaImageHeader;
  header: VolumeHeader;
  range: DataRange;
  /** Uncompressed voxel bytes the header declares. */
  needed: number;
}

function sizeFailure(start: MetaStart, available: number): EmonasError {
  const { h, header } = start;
  const where = h.dataFile === 'LOCAL' ? '' : ` in its data file ${h.dataFile}`;
  const grid = h.shape.join('×') + (h.frames > 1 ? `×${h.frames}` : '');
  return new EmonasError(
    'unreadable_file',
    `${nameOf(header.file)} has ${available} bytes of voxel data${where}, but its header declares ${grid} ${h.dataType} ` +
      `voxels (${start.needed} bytes): the data is truncated or the header is wrong.`,
    { file: header.file },
  );
}

function missingDataFile(h: MetaImageHeader, file: string): EmonasError {
  return new EmonasError(
    'unreadable_file',
    `${nameOf(file)} keeps its voxels in ${h.dataFile}, which is not next to it; keep each header together with its data file.`,
    { file },
  );
}

async function readHeaderText(file: string): Promise<{ h: MetaImageHeader; size: number }> {
  for (const length of [65536, MAX_HEADER_BYTES]) {
    const read = await readFileRange(file, 0, length);
    rejectAppleDouble(read.bytes, file);
    const complete = read.bytes.length >= read.size;
    const h = parseMetaImageHeader(read.bytes, file, complete);
    if (h !== undefined) return { h, size: read.size };
    if (complete) break;
  }
  throw new EmonasError(
    'unsupported_format',
    `${nameOf(file)} is not a MetaImage header: there is no ElementDataFile line in its first ${MAX_HEADER_BYTES} bytes.`,
    { file },
  );
}

/** The header, and where its voxels are, checked against the sizes on disk without reading them. */
async function readStart(file: string, options: ReadOptions): Promise<MetaStart> {
  if (options.scope) await assertInside(options.scope, file, nameOf(file));
  const { h, size } = await readHeaderText(file);
  const header = metaVolumeHeader(h, file);
  let range: DataRange;
  if (h.dataFile === 'LOCAL') {
    range = { path: file, start: h.headerLength, end: size, size, file, name: nameOf(file) };
  } else {
    const path = resolve(dirname(file), h.dataFile);
    const scope = options.scope ?? { root: dirname(file), allowLinks: true };
    await assertInside(scope, path, `${nameOf(file)}'s voxel file ${h.dataFile} (its ElementDataFile)`);
    const dataSize = await sizeOfDataFile(h, file, path);
    const name = `${nameOf(file)}'s voxel file ${h.dataFile}`;
    range = { path, start: Math.max(0, h.skipBytes), end: dataSize, size: dataSize, file, name };
  }
  if (h.compressed && h.compressedSize !== undefined) range.end = range.start + h.compressedSize;
  const start: MetaStart = {
    h,
    header,
    range,
    needed: declaredDataBytes(header, h.compressed ? Math.max(0, range.end - range.start) : undefined),
  };
  if (h.compressed) {
    if (range.end > range.size) throw sizeFailure(start, Math.max(0, range.size - range.start));
    if (range.end < range.size) {
      throw trailingDataFailure(header, `${range.size - range.end} bytes after its compressed data`);
    }
    return start;
  }
  // HeaderSize -1: the voxels are the last bytes of the data file, whatever comes before them.
  if (h.skipBytes === -1) range.start = Math.max(0, range.end - start.needed);
  const available = range.end - range.start;
  if (available < start.needed) throw sizeFailure(start, Math.max(0, available));
  if (available > start.needed) {
    throw trailingDataFailure(header, `${available - start.needed} more bytes`);
  }
  return start;
}

async function sizeOfDataFile(h: MetaImageHeader, file: string, path: string): Promise<number> {
  try {
    const s = await stat(path);
    if (!s.isFile()) throw new Error('it is not a regular file');
    return s.size;
  } catch (err) {
    if ((err as { code?: unknown }).code === 'ENOENT') throw missingDataFile(h, file);
    throw new EmonasError(
      'unreadable_file',
      `${nameOf(file)} keeps its voxels in ${h.dataFile}, which cannot be read: ${(err as Error).message}.`,
      { file },
    );
  }
}

/** The uncompressed voxel bytes of every frame (null when only checked). */
async function loadVoxelBytes(start: MetaStart, keep: boolean): Promise<Uint8Array | null> {
  const { h, range, needed } = start;
  if (!h.compressed) return keep ? (await readFileRange(range.path, range.start, needed)).bytes : null;
  const inflated = await inflateRange(range, needed, keep);
  if (inflated.produced > needed) throw trailingDataFailure(start.header, 'more data once decompressed');
  if (inflated.produced < needed) throw sizeFailure(start, inflated.produced);
  if (inflated.trailing > 0) {
    throw trailingDataFailure(
      start.header,
      `${inflated.trailing} bytes after the end of its compressed data`,
    );
  }
  return inflated.bytes;
}

export async function openMetaImageFile(file: string, options: ReadOptions = {}): Promise<VolumeFile> {
  const start = await readStart(file, options);
  const { h, header } = start;
  const voxels = (await loadVoxelBytes(start, true)) as Uint8Array;
  const count = voxelCount(h.shape);
  const size = count * bytesPerVoxel(h.dataType);
  return {
    header,
    readFrame(t: number) {
      checkFrameIndex(header, t);
      return {
        data: decodeVoxels(voxels.subarray(t * size, (t + 1) * size), h.dataType, count, !h.bigEndian),
        shape: [...h.shape],
        spacing: [...h.spacing],
        origin: [...h.origin],
        direction: [...h.direction],
        dataType: h.dataType,
      };
    },
  };
}

/** The header of a file whose voxels were read (and inflated) and found as declared, keeping none. */
export async function verifyMetaImageFile(file: string, options: ReadOptions = {}): Promise<VolumeHeader> {
  const start = await readStart(file, options);
  await loadVoxelBytes(start, false);
  return start.header;
}

/**
 * Reads the header text only, and checks the data file's presence and size without reading it (a
 * compressed stream is checked only for fitting its file).
 */
export async function readMetaImageHeader(file: string, options: ReadOptions = {}): Promise<VolumeHeader> {
  return (await readStart(file, options)).header;
}
