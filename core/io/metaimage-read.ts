// Runs in: any process (the engine reads datasets, a training worker reads its cases). MetaImage reading:
// .mhd with a separate .raw/.zraw data file, or .mha with the voxels after the header; raw or zlib
// compressed, either byte order, 3D or 4D frame by frame.
import { stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { EmonasError } from '../base/errors.ts';
import { inflateWhole, nameOf, readFileRange, readWholeFile, rejectAppleDouble } from './files.ts';
import { parseMetaImageHeader, type MetaImageHeader } from './metaimage-header.ts';
import { checkFrameIndex, type VolumeFile, type VolumeHeader } from './volume-header.ts';
import { voxelCount } from './volume.ts';
import { bytesPerVoxel, decodeVoxels } from './voxel-types.ts';

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

function neededBytes(h: MetaImageHeader): number {
  return voxelCount(h.shape) * h.frames * bytesPerVoxel(h.dataType);
}

function sizeFailure(h: MetaImageHeader, file: string, available: number): EmonasError {
  const where = h.dataFile === 'LOCAL' ? '' : ` in its data file ${h.dataFile}`;
  const grid = h.shape.join('×') + (h.frames > 1 ? `×${h.frames}` : '');
  return new EmonasError(
    'unreadable_file',
    `${nameOf(file)} has ${available} bytes of voxel data${where}, but its header declares ${grid} ${h.dataType} ` +
      `voxels (${neededBytes(h)} bytes): the data is truncated or the header is wrong.`,
    { file },
  );
}

function missingDataFile(h: MetaImageHeader, file: string): EmonasError {
  return new EmonasError(
    'unreadable_file',
    `${nameOf(file)} keeps its voxels in ${h.dataFile}, which is not next to it; keep each header together with its data file.`,
    { file },
  );
}

function dataPath(h: MetaImageHeader, file: string): string {
  return resolve(dirname(file), h.dataFile);
}

/** The uncompressed voxel bytes of every frame. */
async function loadVoxelBytes(h: MetaImageHeader, headerBytes: Buffer, file: string): Promise<Uint8Array> {
  let source: Uint8Array;
  if (h.dataFile === 'LOCAL') {
    source = headerBytes.subarray(h.headerLength);
  } else {
    try {
      source = await readWholeFile(dataPath(h, file));
    } catch (err) {
      throw err instanceof EmonasError && err.code === 'not_found' ? missingDataFile(h, file) : err;
    }
    if (h.skipBytes > 0) source = source.subarray(h.skipBytes);
  }
  const needed = neededBytes(h);
  if (h.compressed) {
    const packed = h.compressedSize === undefined ? source : source.subarray(0, h.compressedSize);
    source = await inflateWhole(packed, file);
  } else if (h.skipBytes === -1 && source.length >= needed) {
    source = source.subarray(source.length - needed);
  }
  if (source.length < needed) throw sizeFailure(h, file, source.length);
  return source;
}

export async function openMetaImageFile(file: string): Promise<VolumeFile> {
  const bytes = await readWholeFile(file);
  rejectAppleDouble(bytes, file);
  const h = parseMetaImageHeader(bytes, file, true) as MetaImageHeader;
  const header = metaVolumeHeader(h, file);
  const voxels = await loadVoxelBytes(h, bytes, file);
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

/**
 * Reads the header text only (the first 64 KiB of an .mha), and checks the data file's presence and size
 * without reading it.
 */
export async function readMetaImageHeader(file: string): Promise<VolumeHeader> {
  let parsed: MetaImageHeader | undefined;
  let size = 0;
  for (const length of [65536, Number.MAX_SAFE_INTEGER]) {
    const read = await readFileRange(file, 0, length);
    size = read.size;
    rejectAppleDouble(read.bytes, file);
    parsed = parseMetaImageHeader(read.bytes, file, read.bytes.length >= size);
    if (parsed !== undefined) break;
  }
  const h = parsed as MetaImageHeader;
  let available: number;
  if (h.dataFile === 'LOCAL') {
    available = size - h.headerLength;
  } else {
    try {
      available = (await stat(dataPath(h, file))).size - Math.max(0, h.skipBytes);
    } catch (err) {
      if ((err as { code?: unknown }).code === 'ENOENT') throw missingDataFile(h, file);
      throw new EmonasError(
        'unreadable_file',
        `${nameOf(file)} keeps its voxels in ${h.dataFile}, which cannot be read: ${(err as Error).message}.`,
        { file },
      );
    }
  }
  const needed = h.compressed ? (h.compressedSize ?? 0) : neededBytes(h);
  if (available < needed) throw sizeFailure(h, file, available);
  return metaVolumeHeader(h, file);
}
