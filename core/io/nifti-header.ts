// Runs in: any process. The NIfTI-1 and NIfTI-2 header as read by nifti-reader-js, checked, and turned into
// the Volume's geometry (sform, then qform, then pixdim) and voxel type.
import { isNIFTI1, isNIFTI2, NIFTI1, NIFTI2 } from 'nifti-reader-js';
import { EmonasError } from '../base/errors.ts';
import { nameOf, rejectAppleDouble } from './files.ts';
import {
  geometryFromRasAffine,
  rasAffineFromQuaternion,
  type Affine,
  type VolumeGeometry,
} from './geometry.ts';
import type { Mat3, Vec3, VoxelType } from './volume.ts';

/** The header fields a writer needs to write a file "like" this one; plain JSON-able numbers. */
export interface NiftiHeaderInfo {
  version: 1 | 2;
  littleEndian: boolean;
  datatypeCode: number;
  /** dim[0..7] as stored. */
  dims: number[];
  /** pixdim[0..7] as stored; pixdim[0] is qfac. */
  pixdim: number[];
  voxOffset: number;
  /** 0 when the file has no scaling (stored 0, NaN or infinite). */
  sclSlope: number;
  sclInter: number;
  qformCode: number;
  sformCode: number;
  quatern: Vec3;
  qoffset: Vec3;
  /** srow_x, srow_y, srow_z. */
  srow: Affine;
  xyztUnits: number;
  dimInfo: number;
  intentCode: number;
  intentName: string;
  description: string;
  /** Which part of the header the geometry came from. */
  geometrySource: 'sform' | 'qform' | 'pixdim';
}

export const NIFTI1_HEADER_BYTES = 348;
export const NIFTI2_HEADER_BYTES = 540;

const TYPE_OF_CODE: Record<number, VoxelType> = {
  2: 'uint8',
  4: 'int16',
  8: 'int32',
  16: 'float32',
  64: 'float64',
  256: 'int8',
  512: 'uint16',
  768: 'uint32',
};

const UNSUPPORTED_CODES: Record<number, string> = {
  1: 'binary (1 bit per voxel)',
  32: 'complex64',
  128: 'RGB',
  1024: 'int64',
  1280: 'uint64',
  1536: 'float128',
  1792: 'complex128',
  2048: 'complex256',
  2304: 'RGBA',
};

export const CODE_OF_TYPE: Record<VoxelType, number> = {
  uint8: 2,
  int16: 4,
  int32: 8,
  float32: 16,
  float64: 64,
  int8: 256,
  uint16: 512,
  uint32: 768,
};

/** How many leading bytes the header needs: enough to tell the version, then the whole header. */
export function niftiHeaderLength(start: Uint8Array): number {
  if (start.length < 4) return NIFTI2_HEADER_BYTES;
  const view = new DataView(start.buffer, start.byteOffset, 4);
  const size = view.getInt32(0, true) === 540 || view.getInt32(0, false) === 540;
  return size ? NIFTI2_HEADER_BYTES : NIFTI1_HEADER_BYTES;
}

/** Parses the header at the start of (decompressed) NIfTI bytes. */
export function parseNiftiHeader(bytes: Uint8Array, file: string): NiftiHeaderInfo {
  const name = nameOf(file);
  if (bytes.length < 4) {
    throw new EmonasError('unreadable_file', `${name} is empty or too short to be a NIfTI image.`, { file });
  }
  rejectAppleDouble(bytes, file);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  const sizeLe = view.getInt32(0, true);
  const sizeBe = view.getInt32(0, false);
  const version = sizeLe === 348 || sizeBe === 348 ? 1 : sizeLe === 540 || sizeBe === 540 ? 2 : 0;
  if (version === 0) {
    throw new EmonasError(
      'unsupported_format',
      `${name} is not a NIfTI image: it does not start with a NIfTI header.`,
      { file },
    );
  }
  const headerBytes = version === 1 ? NIFTI1_HEADER_BYTES : NIFTI2_HEADER_BYTES;
  if (bytes.length < headerBytes) {
    throw new EmonasError(
      'unreadable_file',
      `${name} ends inside its NIfTI header (${bytes.length} of ${headerBytes} bytes): the file is truncated.`,
      { file },
    );
  }
  // Exactly the header: nifti-reader-js then leaves extensions alone, which we do not use.
  const buffer = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + headerBytes) as ArrayBuffer;
  const magicOk = version === 1 ? isNIFTI1(buffer, true) : isNIFTI2(buffer, true);
  const magic = readMagic(bytes, version);
  if (!magicOk || magic.startsWith('ni')) {
    const found = magic.startsWith('ni')
      ? `'${magic}', the magic of a separate .hdr/.img pair`
      : `'${printable(magic)}' instead of '${version === 1 ? 'n+1' : 'n+2'}'`;
    throw new EmonasError(
      'unsupported_format',
      `${name} is not a valid single-file NIfTI-${version} image: its magic string is ${found}.`,
      { file },
    );
  }
  let h: NIFTI1 | NIFTI2;
  try {
    h = version === 1 ? new NIFTI1() : new NIFTI2();
    h.readHeader(buffer);
  } catch (err) {
    throw new EmonasError('unreadable_file', `${name} has a NIfTI header that cannot be read.`, {
      file,
      cause: err,
    });
  }
  const srow = version === 1 ? readSrow1(bytes, h.littleEndian) : (h.affine.slice(0, 3).flat() as Affine);
  const slope = Number.isFinite(h.scl_slope) ? h.scl_slope : 0;
  const info: NiftiHeaderInfo = {
    version,
    littleEndian: h.littleEndian,
    datatypeCode: h.datatypeCode,
    dims: [...h.dims],
    pixdim: [...h.pixDims],
    voxOffset: h.vox_offset,
    sclSlope: slope,
    sclInter: slope !== 0 && Number.isFinite(h.scl_inter) ? h.scl_inter : 0,
    qformCode: h.qform_code,
    sformCode: h.sform_code,
    quatern: [h.quatern_b, h.quatern_c, h.quatern_d],
    qoffset: [h.qoffset_x, h.qoffset_y, h.qoffset_z],
    srow,
    xyztUnits: h.xyzt_units,
    dimInfo: h.dim_info,
    intentCode: h.intent_code,
    intentName: h.intent_name,
    description: h.description,
    geometrySource: 'pixdim',
  };
  checkDims(info, file);
  info.voxOffset = checkedVoxOffset(h.vox_offset, version, file);
  info.geometrySource = niftiGeometry(info).source;
  checkVoxelSize(info, file);
  return info;
}

/** Where the voxels start; a small offset (0 from some writers) means right after the header. */
function checkedVoxOffset(stored: number, version: 1 | 2, file: string): number {
  if (!Number.isFinite(stored) || stored < 0 || stored > Number.MAX_SAFE_INTEGER) {
    throw new EmonasError(
      'unreadable_file',
      `${nameOf(file)} has an invalid NIfTI header: its voxel data offset (vox_offset) is ${stored}.`,
      { file },
    );
  }
  return Math.max(Math.trunc(stored), version === 1 ? 352 : 544);
}

/** Voxel sizes the geometry is built from must be numbers (the sform carries its own). */
function checkVoxelSize(info: NiftiHeaderInfo, file: string): void {
  if (info.geometrySource === 'sform') return;
  const bad = [1, 2, 3].find((d) => !Number.isFinite(info.pixdim[d] ?? 0));
  if (bad === undefined) return;
  throw new EmonasError(
    'unreadable_file',
    `${nameOf(file)} has an invalid NIfTI header: its voxel size pixdim[${bad}] is ${info.pixdim[bad]}.`,
    { file },
  );
}

function readMagic(bytes: Uint8Array, version: 1 | 2): string {
  const at = version === 1 ? 344 : 4;
  let text = '';
  for (let i = at; i < at + 3; i++) text += String.fromCharCode(bytes[i] as number);
  return text;
}

function printable(text: string): string {
  return text.replace(/[^\x20-\x7e]/g, '?');
}

function readSrow1(bytes: Uint8Array, littleEndian: boolean): Affine {
  const view = new DataView(bytes.buffer, bytes.byteOffset + 280, 48);
  return Array.from({ length: 12 }, (_, i) => view.getFloat32(i * 4, littleEndian)) as Affine;
}

function checkDims(info: NiftiHeaderInfo, file: string): void {
  const name = nameOf(file);
  const rank = info.dims[0] ?? 0;
  if (!(rank >= 1 && rank <= 7)) {
    throw new EmonasError(
      'unreadable_file',
      `${name} has an invalid NIfTI header: it declares ${rank} dimensions (1 to 7 are possible).`,
      { file },
    );
  }
  for (let d = 1; d <= rank; d++) {
    const n = info.dims[d] ?? 0;
    if (!(n >= 1) || !Number.isSafeInteger(n)) {
      throw new EmonasError(
        'unreadable_file',
        `${name} has an invalid NIfTI header: dimension ${d} has size ${n}.`,
        { file },
      );
    }
  }
  for (let d = 5; d <= rank; d++) {
    if ((info.dims[d] ?? 1) > 1) {
      throw new EmonasError(
        'unsupported_format',
        `${name} holds ${rank}-dimensional data (e.g. vectors or several values per voxel); only 3D images and 4D time series can be read.`,
        { file },
      );
    }
  }
}

/** dim[d] when the header declares that many dimensions, else 1. */
function dimOf(info: NiftiHeaderInfo, d: number): number {
  return d <= (info.dims[0] ?? 0) ? (info.dims[d] ?? 1) : 1;
}

export function niftiShape(info: NiftiHeaderInfo): { shape: Vec3; frames: number } {
  return { shape: [dimOf(info, 1), dimOf(info, 2), dimOf(info, 3)], frames: dimOf(info, 4) };
}

export function niftiVoxelType(info: NiftiHeaderInfo, file: string): VoxelType {
  const type = TYPE_OF_CODE[info.datatypeCode];
  if (type !== undefined) return type;
  const what = UNSUPPORTED_CODES[info.datatypeCode];
  throw new EmonasError(
    'unsupported_format',
    what === undefined
      ? `${nameOf(file)} declares an unknown NIfTI data type (code ${info.datatypeCode}).`
      : `${nameOf(file)} stores ${what} voxels, which cannot be read; convert it to an integer or float32 image first.`,
    { file },
  );
}

/** True when scl_slope and scl_inter change the stored values (slope 0 means "no scaling"). */
export function niftiIsScaled(info: NiftiHeaderInfo): boolean {
  return info.sclSlope !== 0 && !(info.sclSlope === 1 && info.sclInter === 0);
}

/** The qform's quaternion with its voxel sizes as nifti1_io reads them (non-positive sizes count as 1). */
export function niftiQuaternion(info: NiftiHeaderInfo) {
  const size = (v: number | undefined) => (v !== undefined && v > 0 ? v : 1);
  return {
    quatern: info.quatern,
    qoffset: info.qoffset,
    spacing: [size(info.pixdim[1]), size(info.pixdim[2]), size(info.pixdim[3])] as Vec3,
    qfac: ((info.pixdim[0] ?? 0) < 0 ? -1 : 1) as 1 | -1,
  };
}

/**
 * The geometry NIfTI prescribes: the sform when sform_code > 0, else the qform when qform_code > 0, else
 * pixdim scaling alone. A form whose matrix is degenerate is skipped in favour of the next one.
 */
export function niftiGeometry(info: NiftiHeaderInfo): {
  geometry: Omit<VolumeGeometry, 'shape'>;
  source: NiftiHeaderInfo['geometrySource'];
} {
  if (info.sformCode > 0) {
    const g = geometryFromRasAffine(info.srow);
    if (g !== undefined) return { geometry: inMillimetres(g, info), source: 'sform' };
  }
  if (info.qformCode > 0) {
    const g = geometryFromRasAffine(rasAffineFromQuaternion(niftiQuaternion(info)));
    if (g !== undefined) return { geometry: inMillimetres(g, info), source: 'qform' };
  }
  const size = (v: number | undefined) =>
    v !== undefined && Number.isFinite(v) && v !== 0 ? Math.abs(v) : 1;
  const direction: Mat3 = [-1, 0, 0, 0, -1, 0, 0, 0, 1];
  const spacing: Vec3 = [size(info.pixdim[1]), size(info.pixdim[2]), size(info.pixdim[3])];
  return { geometry: inMillimetres({ spacing, origin: [0, 0, 0], direction }, info), source: 'pixdim' };
}

/** Geometry in the Volume's millimetres when xyzt_units says metres or microns (as ITK reads them). */
function inMillimetres(
  g: Omit<VolumeGeometry, 'shape'>,
  info: NiftiHeaderInfo,
): Omit<VolumeGeometry, 'shape'> {
  const units = info.xyztUnits & 7;
  const factor = units === 1 ? 1000 : units === 3 ? 0.001 : 1;
  if (factor === 1) return g;
  return {
    spacing: g.spacing.map((v) => v * factor) as Vec3,
    origin: g.origin.map((v) => v * factor) as Vec3,
    direction: g.direction,
  };
}
