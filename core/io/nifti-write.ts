// Runs in: any process (the engine exports predictions, a training worker writes them). NIfTI-1 writing,
// gzipped (.nii.gz) or plain (.nii): a 348-byte header of our own, vox_offset 352, then the voxels.
import { EmonasError } from '../base/errors.ts';
import { gzip, nameOf, writeFileAtomic } from './files.ts';
import { quaternionFromRasAffine, rasAffineFromGeometry, sameAffine, type Affine } from './geometry.ts';
import { CODE_OF_TYPE, type NiftiHeaderInfo } from './nifti-header.ts';
import type { VolumeHeader } from './volume-header.ts';
import { checkVolume } from './volume-checks.ts';
import type { Vec3, Volume, VoxelArray, VoxelType } from './volume.ts';
import {
  allocateVoxels,
  bytesOf,
  bytesPerVoxel,
  convertVoxels,
  fitsExactly,
  integerRange,
  valueRange,
  voxelTypeOf,
} from './voxel-types.ts';

export interface WriteNiftiOptions {
  /**
   * The image this one belongs with (e.g. the scan a prediction was made on): when the volume sits on the
   * same grid, its affine fields, qform/sform codes and units are copied bit for bit, so the new file opens
   * exactly on top of it in 3D Slicer or ITK-SNAP.
   */
  like?: VolumeHeader;
  /** Voxel type to store; defaults to the volume's dataType (or its array's type when that would lose values). */
  dataType?: VoxelType;
  description?: string;
}

const VOX_OFFSET = 352;
const UNITS_MM = 2;
/** Two grids closer than this (mm, per affine entry) are the same grid written by different float rounding. */
const SAME_GRID_MM = 1e-4;

export async function writeNifti(
  file: string,
  volume: Volume,
  options: WriteNiftiOptions = {},
): Promise<void> {
  const lower = file.toLowerCase();
  if (!lower.endsWith('.nii') && !lower.endsWith('.nii.gz')) {
    const message = `${nameOf(file)} must end in .nii or .nii.gz to be written as NIfTI.`;
    throw new EmonasError('bad_request', message, { file });
  }
  const bytes = encodeNifti(volume, options, file);
  await writeFileAtomic(file, lower.endsWith('.gz') ? await gzip(bytes) : bytes);
}

/** The uncompressed bytes of a single-file NIfTI-1 image. */
export function encodeNifti(volume: Volume, options: WriteNiftiOptions, file: string): Uint8Array {
  checkVolume(volume, file);
  if (volume.shape.some((n) => n > 32767)) {
    throw new EmonasError(
      'bad_request',
      `${nameOf(file)} cannot be written as NIfTI-1: its shape ${volume.shape.join('×')} exceeds 32767 voxels along an axis; write it as .mha instead.`,
      { file },
    );
  }
  const { type, slope, inter, voxels } = chooseStorage(volume, options, file);
  const out = new Uint8Array(VOX_OFFSET + voxels.length);
  const view = new DataView(out.buffer);
  const like = options.like?.nifti;
  const sameGrid =
    like !== undefined &&
    options.like !== undefined &&
    sameAffine(rasAffineFromGeometry(options.like), rasAffineFromGeometry(volume), SAME_GRID_MM);
  const form = sameGrid ? copiedForms(like) : computedForms(volume, like);

  view.setInt32(0, 348, true);
  out[38] = 'r'.charCodeAt(0);
  out[39] = form.dimInfo;
  const dims = [3, volume.shape[0], volume.shape[1], volume.shape[2], 1, 1, 1, 1];
  dims.forEach((d, i) => view.setInt16(40 + 2 * i, d, true));
  view.setInt16(70, CODE_OF_TYPE[type], true);
  view.setInt16(72, bytesPerVoxel(type) * 8, true);
  form.pixdim.forEach((p, i) => view.setFloat32(76 + 4 * i, p, true));
  view.setFloat32(108, VOX_OFFSET, true);
  view.setFloat32(112, slope, true);
  view.setFloat32(116, inter, true);
  out[123] = form.xyztUnits;
  writeText(out, 148, 80, options.description ?? like?.description ?? 'Emonas Studio');
  view.setInt16(252, form.qformCode, true);
  view.setInt16(254, form.sformCode, true);
  [...form.quatern, ...form.qoffset].forEach((q, i) => view.setFloat32(256 + 4 * i, q, true));
  form.srow.forEach((s, i) => view.setFloat32(280 + 4 * i, s, true));
  writeText(out, 344, 4, 'n+1');
  out.set(voxels, VOX_OFFSET);
  return out;
}

interface Forms {
  qformCode: number;
  sformCode: number;
  quatern: Vec3;
  qoffset: Vec3;
  pixdim: number[];
  srow: Affine;
  xyztUnits: number;
  dimInfo: number;
}

function copiedForms(like: NiftiHeaderInfo): Forms {
  return {
    qformCode: like.qformCode,
    sformCode: like.sformCode,
    quatern: like.quatern,
    qoffset: like.qoffset,
    pixdim: [like.pixdim[0] ?? 1, like.pixdim[1] ?? 1, like.pixdim[2] ?? 1, like.pixdim[3] ?? 1, 0, 0, 0, 0],
    srow: like.srow,
    xyztUnits: like.xyztUnits,
    dimInfo: like.dimInfo,
  };
}

/** Both forms from the volume's own geometry (so every viewer agrees), coded as the source was where it can. */
function computedForms(volume: Volume, like: NiftiHeaderInfo | undefined): Forms {
  const srow = rasAffineFromGeometry(volume);
  const q = quaternionFromRasAffine(srow);
  const qformCode =
    like && like.qformCode > 0 ? like.qformCode : like && like.sformCode > 0 ? like.sformCode : 1;
  const sformCode = like && like.sformCode > 0 ? like.sformCode : qformCode;
  const temporal = (like?.xyztUnits ?? 0) & 0x38;
  return {
    qformCode,
    sformCode,
    quatern: float32Quaternion(q.quatern),
    qoffset: q.qoffset,
    pixdim: [q.qfac, ...volume.spacing, 0, 0, 0, 0],
    srow,
    xyztUnits: UNITS_MM | temporal,
    dimInfo: 0,
  };
}

/**
 * Readers recompute the quaternion's a = sqrt(1 - b² - c² - d²) from the float32 b, c, d; near a 180 degree
 * rotation plain rounding leaves 1 - b² - c² - d² at ~1e-7 instead of 0, which turns into an a (and a
 * direction error) of ~3e-4. Choosing among the neighbouring float32 values the ones that reproduce a best
 * keeps the qform as accurate as the sform.
 */
function float32Quaternion(q: Vec3): Vec3 {
  const target = Math.sqrt(Math.max(0, 1 - (q[0] * q[0] + q[1] * q[1] + q[2] * q[2])));
  const options = q.map(float32Neighbours) as [number[], number[], number[]];
  let best: Vec3 = [Math.fround(q[0]), Math.fround(q[1]), Math.fround(q[2])];
  let bestError = Infinity;
  for (const b of options[0]) {
    for (const c of options[1]) {
      for (const d of options[2]) {
        const error = Math.abs(Math.sqrt(Math.max(0, 1 - (b * b + c * c + d * d))) - target);
        if (error < bestError) {
          bestError = error;
          best = [b, c, d];
        }
      }
    }
  }
  return best;
}

const scratch = new DataView(new ArrayBuffer(4));

/** The float32 nearest v and the float32 values on either side of it. */
function float32Neighbours(v: number): number[] {
  const nearest = Math.fround(v);
  if (nearest === 0) return [0];
  scratch.setFloat32(0, nearest);
  const bits = scratch.getUint32(0);
  scratch.setUint32(0, bits - 1);
  const smaller = scratch.getFloat32(0);
  scratch.setUint32(0, bits + 1);
  const larger = scratch.getFloat32(0);
  return [nearest, smaller, larger];
}

function writeText(out: Uint8Array, at: number, length: number, text: string): void {
  for (let i = 0; i < Math.min(text.length, length - 1); i++) {
    const code = text.charCodeAt(i);
    out[at + i] = code < 128 ? code : 0x3f;
  }
}

/**
 * The stored type and scaling: unscaled when the values fit the type exactly; else the source's own scaling
 * when the values lie on its grid (a scaled int16 image read and written back); else, for an integer type
 * asked for explicitly, a slope and intercept spanning the values' range (lossy, as asked); else the array's
 * own float type.
 */
function chooseStorage(
  volume: Volume,
  options: WriteNiftiOptions,
  file: string,
): { type: VoxelType; slope: number; inter: number; voxels: Uint8Array } {
  const data = volume.data;
  const type = options.dataType ?? volume.dataType;
  if (fitsExactly(data, type))
    return { type, slope: 1, inter: 0, voxels: bytesOf(convertVoxels(data, type)) };
  // Float types hold any value, so past fitsExactly the type is an integer type with a range.
  const range = integerRange(type) as readonly [number, number];
  const like = options.like?.nifti;
  if (like !== undefined && like.sclSlope !== 0) {
    const stored = quantise(data, type, like.sclSlope, like.sclInter, range, true);
    if (stored !== undefined)
      return { type, slope: like.sclSlope, inter: like.sclInter, voxels: bytesOf(stored) };
  }
  if (options.dataType === undefined) {
    const own = voxelTypeOf(data);
    return { type: own, slope: 1, inter: 0, voxels: bytesOf(data) };
  }
  const { min, max, nonFinite } = valueRange(data);
  if (nonFinite) {
    throw new EmonasError(
      'bad_request',
      `${nameOf(file)} cannot store NaN or infinite values as ${type}; write it as float32 instead.`,
      { file },
    );
  }
  const slope = max > min ? Math.fround((max - min) / (range[1] - range[0])) : 1;
  const inter = Math.fround(min - range[0] * slope);
  const stored = quantise(data, type, slope, inter, range, false) as VoxelArray;
  return { type, slope, inter, voxels: bytesOf(stored) };
}

/**
 * Stored values round((v - inter) / slope), clamped to the type; with `exactOnly`, undefined as soon as a value
 * is not on the scaling's grid (within a thousandth of a step) or falls outside the type.
 */
function quantise(
  data: VoxelArray,
  type: VoxelType,
  slope: number,
  inter: number,
  range: readonly [number, number],
  exactOnly: boolean,
): VoxelArray | undefined {
  const out = allocateVoxels(type, data.length);
  const tolerance = Math.abs(slope) * 1e-3;
  for (let i = 0; i < data.length; i++) {
    const v = data[i] as number;
    let s = Math.round((v - inter) / slope);
    if (exactOnly && !(s >= range[0] && s <= range[1] && Math.abs(s * slope + inter - v) <= tolerance)) {
      return undefined;
    }
    s = Math.min(range[1], Math.max(range[0], s));
    out[i] = s;
  }
  return out;
}
