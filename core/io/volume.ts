// Runs in: any process. The one in-memory image type every file format reads into and writes from.

export type VoxelType = 'uint8' | 'int8' | 'uint16' | 'int16' | 'uint32' | 'int32' | 'float32' | 'float64';

export type VoxelArray =
  Uint8Array | Int8Array | Uint16Array | Int16Array | Uint32Array | Int32Array | Float32Array | Float64Array;

export type Vec3 = [number, number, number];

/** Row-major 3x3; column c is the world direction of voxel axis c (unit length). */
export type Mat3 = [number, number, number, number, number, number, number, number, number];

/**
 * A 3D scalar volume. Voxel (i, j, k) is stored at data[i + shape[0] * (j + shape[1] * k)]: i varies
 * fastest, as in NIfTI and MetaImage files.
 *
 * World coordinates are LPS millimetres (the DICOM, ITK and Cornerstone convention); NIfTI's RAS affine is
 * converted on read and back on write. The world position of voxel (i, j, k) is
 * origin + direction * diag(spacing) * [i, j, k].
 */
export interface Volume {
  data: VoxelArray;
  shape: Vec3;
  spacing: Vec3;
  origin: Vec3;
  direction: Mat3;
  /** The voxel type as stored in the source file (data may hold scaled values of another type). */
  dataType: VoxelType;
}

export const IDENTITY_DIRECTION: Mat3 = [1, 0, 0, 0, 1, 0, 0, 0, 1];

export function voxelCount(shape: Vec3): number {
  return shape[0] * shape[1] * shape[2];
}
