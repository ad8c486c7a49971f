// Runs in: any process. The MetaImage (.mhd / .mha) text header: parsed into geometry, voxel type and where
// the voxels are, and written back. MetaImage world coordinates are LPS already.
import { EmonasError } from '../base/errors.ts';
import { nameOf } from './files.ts';
import type { Mat3, Vec3, VoxelType } from './volume.ts';

export interface MetaImageHeader {
  shape: Vec3;
  frames: number;
  spacing: Vec3;
  origin: Vec3;
  direction: Mat3;
  dataType: VoxelType;
  bigEndian: boolean;
  compressed: boolean;
  compressedSize: number | undefined;
  /** 'LOCAL' (voxels follow the header in the same file) or a file name relative to the header. */
  dataFile: string;
  /** Bytes to skip at the start of a separate data file; -1 means the voxels end the file. */
  skipBytes: number;
  /** Length of the header text including the ElementDataFile line (where LOCAL voxels start). */
  headerLength: number;
}

const TYPE_OF_ELEMENT: Record<string, VoxelType> = {
  MET_UCHAR: 'uint8',
  MET_CHAR: 'int8',
  MET_USHORT: 'uint16',
  MET_SHORT: 'int16',
  MET_UINT: 'uint32',
  MET_INT: 'int32',
  // MetaIO's MET_LONG and MET_ULONG are 4 bytes wide.
  MET_ULONG: 'uint32',
  MET_LONG: 'int32',
  MET_FLOAT: 'float32',
  MET_DOUBLE: 'float64',
};

export const ELEMENT_OF_TYPE: Record<VoxelType, string> = {
  uint8: 'MET_UCHAR',
  int8: 'MET_CHAR',
  uint16: 'MET_USHORT',
  int16: 'MET_SHORT',
  uint32: 'MET_UINT',
  int32: 'MET_INT',
  float32: 'MET_FLOAT',
  float64: 'MET_DOUBLE',
};

const KEY_LINE = /^\s*([A-Za-z_][A-Za-z0-9_]*)\s*=(.*)$/;

/**
 * Parses the header at the start of `bytes`. Returns undefined when the bytes end before the ElementDataFile
 * line and `complete` is false (the caller reads more and tries again).
 */
export function parseMetaImageHeader(
  bytes: Uint8Array,
  file: string,
  complete: boolean,
): MetaImageHeader | undefined {
  const name = nameOf(file);
  const fields = new Map<string, string>();
  let at = 0;
  let headerLength = -1;
  while (at < bytes.length) {
    let end = bytes.indexOf(0x0a, at);
    const lineEnd = end === -1 ? bytes.length : end;
    if (end === -1 && !complete) return undefined;
    end = end === -1 ? bytes.length : end + 1;
    const line = Buffer.from(bytes.buffer, bytes.byteOffset + at, lineEnd - at)
      .toString('latin1')
      .replace(/\r$/, '');
    at = end;
    if (line.trim() === '') continue;
    const match = KEY_LINE.exec(line);
    if (match === null) {
      throw new EmonasError(
        'unsupported_format',
        fields.size === 0
          ? `${name} is not a MetaImage header: its first line is not of the form "Key = Value".`
          : `${name} has a header line that is not of the form "Key = Value": "${printable(line)}".`,
        { file },
      );
    }
    const key = (match[1] as string).toLowerCase();
    fields.set(key, (match[2] as string).trim());
    if (key === 'elementdatafile') {
      headerLength = at;
      break;
    }
  }
  if (headerLength < 0) {
    if (!complete) return undefined;
    throw new EmonasError(
      'unsupported_format',
      fields.size === 0
        ? `${name} is empty, not a MetaImage header.`
        : `${name} is not a complete MetaImage header: it has no ElementDataFile line.`,
      { file },
    );
  }
  return interpret(fields, headerLength, file);
}

function printable(text: string): string {
  const clean = text.replace(/[^\x20-\x7e]/g, '?');
  return clean.length > 60 ? `${clean.slice(0, 60)}...` : clean;
}

function interpret(fields: Map<string, string>, headerLength: number, file: string): MetaImageHeader {
  const name = nameOf(file);
  const fail: (code: 'unsupported_format' | 'unreadable_file', why: string) => never = (code, why) => {
    throw new EmonasError(code, `${name} ${why}`, { file });
  };
  const get = (...keys: string[]) => {
    for (const key of keys) {
      const value = fields.get(key.toLowerCase());
      if (value !== undefined) return value;
    }
    return undefined;
  };
  const numbers = (key: string, value: string | undefined, count: number): number[] | undefined => {
    if (value === undefined) return undefined;
    const parts = value.split(/\s+/).filter((p) => p !== '');
    const out = parts.map(Number);
    if (out.length < count || !out.every(Number.isFinite)) {
      fail(
        'unreadable_file',
        `has an invalid ${key} line: "${printable(value)}" (expected ${count} numbers).`,
      );
    }
    return out;
  };
  const flag = (value: string | undefined) => value !== undefined && /^(true|1|yes)$/i.test(value);

  const objectType = get('ObjectType');
  if (objectType !== undefined && objectType.toLowerCase() !== 'image') {
    fail('unsupported_format', `holds a MetaImage "${objectType}" object, not an image.`);
  }
  const ndims = Number(get('NDims'));
  if (!(ndims >= 2 && ndims <= 4) || !Number.isInteger(ndims)) {
    fail(
      'unsupported_format',
      `declares NDims = ${get('NDims') ?? '(missing)'}; only 2D, 3D and 4D images can be read.`,
    );
  }
  const dimSize =
    numbers('DimSize', get('DimSize'), ndims) ?? fail('unreadable_file', 'has no DimSize line.');
  if (!dimSize.slice(0, ndims).every((n) => Number.isInteger(n) && n >= 1)) {
    fail('unreadable_file', `has an invalid DimSize: ${dimSize.join(' ')}.`);
  }
  const channels = Number(get('ElementNumberOfChannels') ?? '1');
  if (channels !== 1) {
    fail(
      'unsupported_format',
      `stores ${channels} values per voxel; only single-channel images can be read.`,
    );
  }
  const element = get('ElementType') ?? fail('unreadable_file', 'has no ElementType line.');
  const dataType = TYPE_OF_ELEMENT[element.toUpperCase()];
  if (dataType === undefined) {
    fail(
      'unsupported_format',
      `has ElementType ${printable(element)}, which cannot be read (supported: ${Object.keys(TYPE_OF_ELEMENT).join(', ')}).`,
    );
  }
  const binary = get('BinaryData');
  if (binary !== undefined && !flag(binary)) {
    fail(
      'unsupported_format',
      'stores its voxels as text (BinaryData = False); save it as binary MetaImage.',
    );
  }
  const dataFile = get('ElementDataFile') as string;
  if (/^LIST\b/i.test(dataFile) || dataFile.includes('%')) {
    fail(
      'unsupported_format',
      `spreads its voxels over several files (ElementDataFile = ${printable(dataFile)}); save it with a single data file or as .mha.`,
    );
  }
  if (dataFile === '') fail('unreadable_file', 'has an empty ElementDataFile line.');

  const spacingValues = numbers('ElementSpacing', get('ElementSpacing', 'ElementSize'), ndims) ?? [
    1, 1, 1, 1,
  ];
  const originValues = numbers('Offset', get('Offset', 'Position', 'Origin'), ndims) ?? [0, 0, 0, 0];
  const matrix = numbers('TransformMatrix', get('TransformMatrix', 'Rotation', 'Orientation'), ndims * ndims);
  const spatial = Math.min(ndims, 3);
  const shape: Vec3 = [1, 1, 1];
  const spacing: Vec3 = [1, 1, 1];
  const origin: Vec3 = [0, 0, 0];
  const direction: Mat3 = [1, 0, 0, 0, 1, 0, 0, 0, 1];
  for (let axis = 0; axis < spatial; axis++) {
    shape[axis] = dimSize[axis] as number;
    spacing[axis] = spacingValues[axis] as number;
    origin[axis] = originValues[axis] as number;
    if (!((spacingValues[axis] as number) > 0))
      fail('unreadable_file', `has a non-positive ElementSpacing: ${spacingValues.join(' ')}.`);
  }
  if (matrix !== undefined) {
    // As in ITK: the matrix's row `axis` (ndims values) is the world direction of voxel axis `axis`.
    for (let axis = 0; axis < spatial; axis++) {
      const column = [0, 1, 2].map((r) =>
        r < spatial ? (matrix[axis * ndims + r] as number) : r === axis ? 1 : 0,
      );
      const length = Math.hypot(...column);
      if (!(length > 0))
        fail('unreadable_file', `has a TransformMatrix with an all-zero axis: ${matrix.join(' ')}.`);
      const scale = Math.abs(length - 1) > 1e-6 ? length : 1;
      for (let r = 0; r < 3; r++) direction[r * 3 + axis] = (column[r] as number) / scale;
    }
  }
  const compressed = flag(get('CompressedData'));
  const compressedSize = get('CompressedDataSize');
  const compressedBytes = compressedSize === undefined ? undefined : Number(compressedSize);
  if (compressedBytes !== undefined && !(Number.isSafeInteger(compressedBytes) && compressedBytes > 0)) {
    fail('unreadable_file', `has an invalid CompressedDataSize: ${printable(compressedSize as string)}.`);
  }
  const skip = get('HeaderSize');
  const skipBytes = skip === undefined ? 0 : Number(skip);
  if (!Number.isSafeInteger(skipBytes) || skipBytes < -1 || (skipBytes === -1 && compressed)) {
    fail(
      'unreadable_file',
      `has an invalid HeaderSize: ${printable(skip as string)} (a number of bytes, or -1 for uncompressed voxels that end the file).`,
    );
  }
  return {
    shape,
    frames: ndims === 4 ? (dimSize[3] as number) : 1,
    spacing,
    origin,
    direction,
    dataType,
    bigEndian: flag(get('BinaryDataByteOrderMSB', 'ElementByteOrderMSB')),
    compressed,
    compressedSize: compressedBytes,
    dataFile,
    skipBytes,
    headerLength,
  };
}

/** Header text for a 3D image; `dataFile` is 'LOCAL' or the data file's name next to the header. */
export function formatMetaImageHeader(h: {
  shape: Vec3;
  spacing: Vec3;
  origin: Vec3;
  direction: Mat3;
  dataType: VoxelType;
  compressedSize: number | undefined;
  dataFile: string;
}): string {
  const axes = [0, 1, 2].flatMap((axis) => [0, 1, 2].map((r) => h.direction[r * 3 + axis]));
  const lines = [
    'ObjectType = Image',
    'NDims = 3',
    'BinaryData = True',
    'BinaryDataByteOrderMSB = False',
    `CompressedData = ${h.compressedSize === undefined ? 'False' : 'True'}`,
    ...(h.compressedSize === undefined ? [] : [`CompressedDataSize = ${h.compressedSize}`]),
    `TransformMatrix = ${axes.join(' ')}`,
    `Offset = ${h.origin.join(' ')}`,
    'CenterOfRotation = 0 0 0',
    `ElementSpacing = ${h.spacing.join(' ')}`,
    `DimSize = ${h.shape.join(' ')}`,
    `ElementType = ${ELEMENT_OF_TYPE[h.dataType]}`,
    `ElementDataFile = ${h.dataFile}`,
  ];
  return lines.join('\n') + '\n';
}
