// Runs in: any process. What a reader reports about an image file before (or without) decoding its voxels,
// and an opened file whose frames can be decoded one at a time.
import { EmonasError } from '../base/errors.ts';
import { nameOf } from './files.ts';
import type { VolumeGeometry } from './geometry.ts';
import type { NiftiHeaderInfo } from './nifti-header.ts';
import type { Volume, VoxelType } from './volume.ts';

export type VolumeFormat = 'nifti1' | 'nifti2' | 'metaimage';

/** Geometry and voxel type of an image file; JSON-able. For a 4D file, shape and geometry are per frame. */
export interface VolumeHeader extends VolumeGeometry {
  file: string;
  format: VolumeFormat;
  /** Time frames (1 for a 3D image). */
  frames: number;
  /** The voxel type as stored in the file. */
  dataType: VoxelType;
  /** True when the file's intensity scaling applies, so voxels decode to float32 (float64 for float64 files). */
  scaled: boolean;
  /** Present for NIfTI files: what writeVolume needs to write another image exactly like this one. */
  nifti?: NiftiHeaderInfo;
}

/** An image file read once; each frame is decoded when asked for. */
export interface VolumeFile {
  header: VolumeHeader;
  readFrame(t: number): Volume;
}

export function checkFrameIndex(header: VolumeHeader, t: number): void {
  if (!Number.isInteger(t) || t < 0 || t >= header.frames) {
    const range = header.frames === 1 ? 'only frame 0' : `frames 0 to ${header.frames - 1}`;
    throw new EmonasError('bad_request', `${nameOf(header.file)} has ${range}; frame ${t} does not exist.`, {
      file: header.file,
    });
  }
}
