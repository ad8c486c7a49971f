// Runs in: any process (the engine reads datasets, a training worker reads its cases). NIfTI-1 and NIfTI-2
// reading, plain or gzipped: the header alone, the whole file checked without keeping it, or the whole file
// once with frames decoded on demand. Nothing past the voxels the header declares is read or inflated.
import { EmonasError } from '../base/errors.ts';
import {
  declaredDataBytes,
  declaredGrid,
  inflateRange,
  trailingDataFailure,
  type DataSource,
} from './bounded-read.ts';
import { assertInside, type ReadOptions } from './file-scope.ts';
import { gzipRecordedSize, isGzip, nameOf, readFileRange } from './files.ts';
import {
  NIFTI2_HEADER_BYTES,
  niftiGeometry,
  niftiIsScaled,
  niftiShape,
  niftiVoxelType,
  parseNiftiHeader,
  type NiftiHeaderInfo,
} from './nifti-header.ts';
import { checkFrameIndex, type VolumeFile, type VolumeHeader } from './volume-header.ts';
import { voxelCount, type VoxelArray } from './volume.ts';
import { bytesPerVoxel, decodeVoxels } from './voxel-types.ts';

export function niftiVolumeHeader(info: NiftiHeaderInfo, file: string): VolumeHeader {
  const { shape, frames } = niftiShape(info);
  const { geometry } = niftiGeometry(info);
  return {
    file,
    format: info.version === 1 ? 'nifti1' : 'nifti2',
    shape,
    frames,
    ...geometry,
    dataType: niftiVoxelType(info, file),
    scaled: niftiIsScaled(info),
    nifti: info,
  };
}

function frameBytes(header: VolumeHeader): number {
  return voxelCount(header.shape) * bytesPerVoxel(header.dataType);
}

function checkDataSize(header: VolumeHeader, voxOffset: number, available: number): void {
  const needed = voxOffset + frameBytes(header) * header.frames;
  if (available >= needed) return;
  throw new EmonasError(
    'unreadable_file',
    `${nameOf(header.file)} holds ${Math.max(0, available - voxOffset)} bytes of voxel data, but its header ` +
      `declares ${declaredGrid(header)} voxels (${needed - voxOffset} bytes): the file is truncated or its header is wrong.`,
    { file: header.file },
  );
}

/** Opens NIfTI bytes already in memory (decompressed when the file was gzipped). */
export function openNiftiBytes(bytes: Uint8Array, file: string): VolumeFile {
  const info = parseNiftiHeader(bytes, file);
  const header = niftiVolumeHeader(info, file);
  checkDataSize(header, info.voxOffset, bytes.length);
  const size = frameBytes(header);
  const count = voxelCount(header.shape);
  return {
    header,
    readFrame(t: number) {
      checkFrameIndex(header, t);
      const start = info.voxOffset + t * size;
      const raw = decodeVoxels(
        bytes.subarray(start, start + size),
        header.dataType,
        count,
        info.littleEndian,
      );
      return {
        data: header.scaled ? applyScaling(raw, info.sclSlope, info.sclInter) : raw,
        shape: [...header.shape],
        spacing: [...header.spacing],
        origin: [...header.origin],
        direction: [...header.direction],
        dataType: header.dataType,
      };
    },
  };
}

/** value = stored * slope + inter, as float32 (float64 when the file stores float64, to keep its precision). */
function applyScaling(raw: VoxelArray, slope: number, inter: number): Float32Array | Float64Array {
  const out = raw instanceof Float64Array ? new Float64Array(raw.length) : new Float32Array(raw.length);
  for (let i = 0; i < raw.length; i++) out[i] = (raw[i] as number) * slope + inter;
  return out;
}

interface NiftiStart {
  info: NiftiHeaderInfo;
  header: VolumeHeader;
  gzipped: boolean;
  /** The file's size on disk. */
  size: number;
  /** Header, extensions and declared voxels: every byte the (decompressed) file should hold. */
  needed: number;
}

function wholeFile(file: string, size: number): DataSource {
  return { path: file, start: 0, end: size, file, name: nameOf(file) };
}

/** The header, from the first bytes of the file (inflating only those of a gzipped one). */
async function readStart(file: string, options: ReadOptions): Promise<NiftiStart> {
  if (options.scope) await assertInside(options.scope, file, nameOf(file));
  const first = await readFileRange(file, 0, 1024);
  const gzipped = isGzip(first.bytes);
  const head = gzipped
    ? ((await inflateRange(wholeFile(file, first.size), NIFTI2_HEADER_BYTES, true)).bytes as Buffer)
    : first.bytes;
  const info = parseNiftiHeader(head, file);
  const header = niftiVolumeHeader(info, file);
  const needed = info.voxOffset + declaredDataBytes(header, gzipped ? first.size : undefined);
  if (!gzipped) checkPlainSize(header, info.voxOffset, needed, first.size);
  return { info, header, gzipped, size: first.size, needed };
}

function checkPlainSize(header: VolumeHeader, voxOffset: number, needed: number, size: number): void {
  checkDataSize(header, voxOffset, size);
  if (size > needed) throw trailingDataFailure(header, `${size - needed} more bytes`);
}

/** Inflates a gzipped file up to exactly `needed` bytes, refusing missing or extra data. */
async function inflateChecked(start: NiftiStart, keep: boolean): Promise<Buffer | null> {
  const { header, info, needed, size } = start;
  const inflated = await inflateRange(wholeFile(header.file, size), needed, keep);
  if (inflated.produced > needed) throw trailingDataFailure(header, 'more data once decompressed');
  checkDataSize(header, info.voxOffset, inflated.produced);
  if (inflated.trailing > 0) {
    throw trailingDataFailure(header, `${inflated.trailing} bytes after the end of its compressed data`);
  }
  return inflated.bytes;
}

export async function openNiftiFile(file: string, options: ReadOptions = {}): Promise<VolumeFile> {
  const start = await readStart(file, options);
  const bytes = start.gzipped
    ? ((await inflateChecked(start, true)) as Buffer)
    : (await readFileRange(file, 0, start.needed)).bytes;
  return openNiftiBytes(bytes, file);
}

/** The header of a file whose every byte was read (and inflated) and found as declared, keeping none. */
export async function verifyNiftiFile(file: string, options: ReadOptions = {}): Promise<VolumeHeader> {
  const start = await readStart(file, options);
  if (start.gzipped) await inflateChecked(start, false);
  return start.header;
}

/**
 * Reads the header from the first bytes of the file only, and checks the data size against the file size.
 * A gzipped file's trailer records its uncompressed size; only when that is not exactly header + voxels (a
 * truncated file, whose last bytes are then arbitrary, or data appended to the stream) is the file inflated,
 * no further than the declared voxels, to tell which.
 */
export async function readNiftiHeader(file: string, options: ReadOptions = {}): Promise<VolumeHeader> {
  const start = await readStart(file, options);
  if (start.gzipped) {
    const { bytes: trailer } = await readFileRange(file, start.size - 4, 4);
    if (trailer.length < 4 || gzipRecordedSize(trailer) !== start.needed % 2 ** 32) {
      await inflateChecked(start, false);
    }
  }
  return start.header;
}
