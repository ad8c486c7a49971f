// Runs in: any process (the engine reads datasets, a training worker reads its cases). NIfTI-1 and NIfTI-2
// reading, plain or gzipped: the header alone, or the whole file once with frames decoded on demand.
import { EmonasError } from '../base/errors.ts';
import {
  gunzipStart,
  gunzipWhole,
  gzipRecordedSize,
  isGzip,
  nameOf,
  readFileRange,
  readWholeFile,
} from './files.ts';
import {
  niftiGeometry,
  niftiHeaderLength,
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
  const grid = header.shape.join('×') + (header.frames > 1 ? `×${header.frames}` : '');
  throw new EmonasError(
    'unreadable_file',
    `${nameOf(header.file)} holds ${Math.max(0, available - voxOffset)} bytes of voxel data, but its header ` +
      `declares ${grid} ${header.dataType} voxels (${needed - voxOffset} bytes): the file is truncated or its header is wrong.`,
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

export async function openNiftiFile(file: string): Promise<VolumeFile> {
  const raw = await readWholeFile(file);
  return openNiftiBytes(isGzip(raw) ? await gunzipWhole(raw, file) : raw, file);
}

/**
 * Reads the header from the first bytes of the file only, and checks the data size against the file size.
 * A gzipped file's trailer records its uncompressed size; only when that is not exactly header + voxels (a
 * truncated file, whose last bytes are then arbitrary, or a rare file with trailing bytes or several gzip
 * members) is the file inflated once to tell which.
 */
export async function readNiftiHeader(file: string): Promise<VolumeHeader> {
  let head: Uint8Array = new Uint8Array(0);
  let size = 0;
  let gzipped = false;
  for (const length of [1024, 65536, Number.MAX_SAFE_INTEGER]) {
    const read = await readFileRange(file, 0, length);
    size = read.size;
    gzipped = isGzip(read.bytes);
    head = gzipped ? gunzipStart(read.bytes, file) : read.bytes;
    if (head.length >= niftiHeaderLength(head) || read.bytes.length >= size) break;
  }
  if (gzipped && head.length < niftiHeaderLength(head)) {
    // The whole file inflated to less than a header: let the full inflate say whether it was cut short.
    head = await gunzipWhole(await readWholeFile(file), file);
  }
  const info = parseNiftiHeader(head, file);
  const header = niftiVolumeHeader(info, file);
  const needed = info.voxOffset + frameBytes(header) * header.frames;
  if (!gzipped) {
    checkDataSize(header, info.voxOffset, size);
  } else {
    const { bytes: trailer } = await readFileRange(file, size - 4, 4);
    if (trailer.length < 4 || gzipRecordedSize(trailer) !== needed % 2 ** 32) {
      const whole = await gunzipWhole(await readWholeFile(file), file);
      checkDataSize(header, info.voxOffset, whole.length);
    }
  }
  return header;
}
