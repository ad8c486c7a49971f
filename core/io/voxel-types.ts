// Runs in: any process. The eight voxel types: their typed arrays, byte sizes and integer ranges, and the
// copies that turn file bytes into arrays and arrays into little-endian file bytes.
//
// Decoding assumes a little-endian host, which every platform Node 20 ships for is.
import type { VoxelArray, VoxelType } from './volume.ts';

type VoxelArrayConstructor = {
  new (length: number): VoxelArray;
  new (buffer: ArrayBufferLike, byteOffset?: number, length?: number): VoxelArray;
  readonly BYTES_PER_ELEMENT: number;
};

const ARRAY_OF: Record<VoxelType, VoxelArrayConstructor> = {
  uint8: Uint8Array,
  int8: Int8Array,
  uint16: Uint16Array,
  int16: Int16Array,
  uint32: Uint32Array,
  int32: Int32Array,
  float32: Float32Array,
  float64: Float64Array,
};

const INTEGER_RANGE: Partial<Record<VoxelType, readonly [number, number]>> = {
  uint8: [0, 255],
  int8: [-128, 127],
  uint16: [0, 65535],
  int16: [-32768, 32767],
  uint32: [0, 4294967295],
  int32: [-2147483648, 2147483647],
};

export function bytesPerVoxel(type: VoxelType): number {
  return ARRAY_OF[type].BYTES_PER_ELEMENT;
}

export function allocateVoxels(type: VoxelType, count: number): VoxelArray {
  return new ARRAY_OF[type](count);
}

/** The [min, max] an integer type holds, or undefined for float types. */
export function integerRange(type: VoxelType): readonly [number, number] | undefined {
  return INTEGER_RANGE[type];
}

export function voxelTypeOf(data: VoxelArray): VoxelType {
  if (data instanceof Uint8Array) return 'uint8';
  if (data instanceof Int8Array) return 'int8';
  if (data instanceof Uint16Array) return 'uint16';
  if (data instanceof Int16Array) return 'int16';
  if (data instanceof Uint32Array) return 'uint32';
  if (data instanceof Int32Array) return 'int32';
  if (data instanceof Float32Array) return 'float32';
  return 'float64';
}

/**
 * Copies `count` voxels from file bytes into a fresh array of their own (aligned, and not holding the rest
 * of the file alive), swapping bytes when the file is big-endian.
 */
export function decodeVoxels(
  bytes: Uint8Array,
  type: VoxelType,
  count: number,
  littleEndian: boolean,
): VoxelArray {
  const out = allocateVoxels(type, count);
  const size = out.BYTES_PER_ELEMENT;
  const target = new Uint8Array(out.buffer, 0, count * size);
  target.set(bytes.subarray(0, count * size));
  if (!littleEndian && size > 1) swapBytes(target, size);
  return out;
}

/** Reverses the byte order of every `size`-byte element in place. */
export function swapBytes(bytes: Uint8Array, size: number): void {
  for (let i = 0; i + size <= bytes.length; i += size) {
    for (let a = i, b = i + size - 1; a < b; a++, b--) {
      const t = bytes[a] as number;
      bytes[a] = bytes[b] as number;
      bytes[b] = t;
    }
  }
}

/** The array's own bytes in the host's (little-endian) order, without copying. */
export function bytesOf(data: VoxelArray): Uint8Array {
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

/** True when every value can be stored in `type` without change (floats hold anything as requested). */
export function fitsExactly(data: VoxelArray, type: VoxelType): boolean {
  const range = INTEGER_RANGE[type];
  if (range === undefined) return true;
  const source = voxelTypeOf(data);
  const sourceRange = INTEGER_RANGE[source];
  if (sourceRange !== undefined && sourceRange[0] >= range[0] && sourceRange[1] <= range[1]) return true;
  const [lo, hi] = range;
  for (let i = 0; i < data.length; i++) {
    const v = data[i] as number;
    if (!(v >= lo && v <= hi) || Math.round(v) !== v) return false;
  }
  return true;
}

/** The data as an array of `type`: the same array when it already is one, else a converted copy. */
export function convertVoxels(data: VoxelArray, type: VoxelType): VoxelArray {
  if (voxelTypeOf(data) === type) return data;
  const out = allocateVoxels(type, data.length);
  const range = INTEGER_RANGE[type];
  if (range === undefined) {
    out.set(data);
    return out;
  }
  for (let i = 0; i < data.length; i++) out[i] = Math.round(data[i] as number);
  return out;
}

/** Finite minimum and maximum, and whether any value is NaN or infinite. */
export function valueRange(data: VoxelArray): { min: number; max: number; nonFinite: boolean } {
  let min = Infinity;
  let max = -Infinity;
  let nonFinite = false;
  for (let i = 0; i < data.length; i++) {
    const v = data[i] as number;
    if (!Number.isFinite(v)) {
      nonFinite = true;
      continue;
    }
    if (v < min) min = v;
    if (v > max) max = v;
  }
  return { min, max, nonFinite };
}
