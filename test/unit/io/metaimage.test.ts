import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { deflateSync } from 'node:zlib';
import { writeMetaImage } from '../../../core/io/metaimage-write.ts';
import {
  countFrames,
  openVolume,
  readVolume,
  readVolumeHeader,
  writeVolume,
} from '../../../core/io/volume-files.ts';
import type { Volume, VoxelType } from '../../../core/io/volume.ts';
import { allocateVoxels, bytesOf, swapBytes } from '../../../core/io/voxel-types.ts';
import { makeTempDir, rejection, requirePython, runPython } from './helpers.ts';

let dir: string;
let remove: () => void;
beforeAll(() => {
  ({ dir, remove } = makeTempDir('metaimage'));
});
afterAll(() => remove?.());

const ELEMENTS: [string, VoxelType][] = [
  ['MET_UCHAR', 'uint8'],
  ['MET_CHAR', 'int8'],
  ['MET_USHORT', 'uint16'],
  ['MET_SHORT', 'int16'],
  ['MET_UINT', 'uint32'],
  ['MET_INT', 'int32'],
  ['MET_FLOAT', 'float32'],
  ['MET_DOUBLE', 'float64'],
];

const SHAPE = [4, 3, 2] as const;
const COUNT = 24;

function valuesOf(type: VoxelType) {
  const data = allocateVoxels(type, COUNT);
  for (let i = 0; i < COUNT; i++)
    data[i] = type.startsWith('float') ? i * 1.5 - 7.25 : type.startsWith('u') ? i * 5 : i * 5 - 60;
  return data;
}

function header(lines: string[]): string {
  return lines.join('\n') + '\n';
}

/** Writes a header (and, unless LOCAL, its data file) by hand, as ITK or another tool would. */
function writeFixture(name: string, lines: string[], payload: Uint8Array, dataFile?: string): string {
  const file = join(dir, name);
  if (dataFile === undefined) {
    writeFileSync(file, Buffer.concat([Buffer.from(header(lines)), payload]));
  } else {
    writeFileSync(file, header(lines));
    writeFileSync(join(dir, dataFile), payload);
  }
  return file;
}

describe('MetaImage reading', () => {
  it('reads every common ElementType from .mhd + .raw with geometry', async () => {
    for (const [element, type] of ELEMENTS) {
      const data = valuesOf(type);
      const file = writeFixture(
        `all-${element}.mhd`,
        [
          'ObjectType = Image',
          'NDims = 3',
          'BinaryData = True',
          'BinaryDataByteOrderMSB = False',
          'TransformMatrix = 0 1 0 -1 0 0 0 0 1',
          'Offset = -10.5 20 3.25',
          'ElementSpacing = 0.5 0.75 3',
          `DimSize = ${SHAPE.join(' ')}`,
          `ElementType = ${element}`,
          `ElementDataFile = all-${element}.raw`,
        ],
        bytesOf(data),
        `all-${element}.raw`,
      );
      const volume = await readVolume(file);
      expect(volume.dataType).toBe(type);
      expect(volume.data).toEqual(data);
      expect(volume.shape).toEqual([4, 3, 2]);
      expect(volume.spacing).toEqual([0.5, 0.75, 3]);
      expect(volume.origin).toEqual([-10.5, 20, 3.25]);
      // ITK's reading: the first three numbers are the world direction of voxel axis i (here +y).
      expect(volume.direction).toEqual([0, -1, 0, 1, 0, 0, 0, 0, 1]);
    }
  });

  it('reads big-endian data under either byte-order key', async () => {
    for (const key of ['BinaryDataByteOrderMSB', 'ElementByteOrderMSB']) {
      const data = valuesOf('int16');
      const swapped = bytesOf(data).slice();
      swapBytes(swapped, 2);
      const file = writeFixture(
        `big-${key}.mhd`,
        [
          'NDims = 3',
          `DimSize = ${SHAPE.join(' ')}`,
          'ElementType = MET_SHORT',
          `${key} = True`,
          `ElementDataFile = big-${key}.raw`,
        ],
        swapped,
        `big-${key}.raw`,
      );
      expect((await readVolume(file)).data).toEqual(data);
    }
  });

  it('reads zlib-compressed data with and without CompressedDataSize, in .zraw and .mha', async () => {
    const data = valuesOf('float32');
    const packed = deflateSync(bytesOf(data));
    const withSize = writeFixture(
      'packed-sized.mhd',
      [
        'NDims = 3',
        `DimSize = ${SHAPE.join(' ')}`,
        'ElementType = MET_FLOAT',
        'CompressedData = True',
        `CompressedDataSize = ${packed.length}`,
        'ElementDataFile = packed-sized.zraw',
      ],
      packed,
      'packed-sized.zraw',
    );
    const without = writeFixture(
      'packed.mha',
      [
        'NDims = 3',
        `DimSize = ${SHAPE.join(' ')}`,
        'ElementType = MET_FLOAT',
        'CompressedData = True',
        'ElementDataFile = LOCAL',
      ],
      packed,
    );
    expect((await readVolume(withSize)).data).toEqual(data);
    expect((await readVolume(without)).data).toEqual(data);
  });

  it('reads .mha with LOCAL data, CRLF lines and the Position / Orientation aliases', async () => {
    const data = valuesOf('uint8');
    const text =
      [
        'ObjectType = Image',
        'NDims = 3',
        'Orientation = 1 0 0 0 0 1 0 -1 0',
        'Position = 1 2 3',
        'ElementSize = 2 2 2',
        `DimSize = ${SHAPE.join(' ')}`,
        'ElementType = MET_UCHAR',
        'ElementDataFile = LOCAL',
      ].join('\r\n') + '\r\n';
    const file = join(dir, 'aliases.mha');
    writeFileSync(file, Buffer.concat([Buffer.from(text), bytesOf(data)]));
    const volume = await readVolume(file);
    expect(volume.data).toEqual(data);
    expect(volume.origin).toEqual([1, 2, 3]);
    expect(volume.spacing).toEqual([2, 2, 2]);
    expect(volume.direction).toEqual([1, 0, 0, 0, 0, -1, 0, 1, 0]);
    const originAlias = writeFixture(
      'origin-alias.mhd',
      [
        'NDims = 3',
        'Origin = -4 5 6',
        'Rotation = 1 0 0 0 1 0 0 0 1',
        `DimSize = ${SHAPE.join(' ')}`,
        'ElementType = MET_UCHAR',
        'HeaderSize = 16',
        'ElementDataFile = origin-alias.raw',
      ],
      Buffer.concat([Buffer.alloc(16, 0xff), bytesOf(data)]),
      'origin-alias.raw',
    );
    const skipped = await readVolume(originAlias);
    expect(skipped.origin).toEqual([-4, 5, 6]);
    expect(skipped.data).toEqual(data);
  });

  it('reads 4D files frame by frame', async () => {
    const frames = new Int16Array(COUNT * 3).map((_, i) => i - 30);
    const file = writeFixture(
      'series.mha',
      [
        'NDims = 4',
        `DimSize = ${SHAPE.join(' ')} 3`,
        'ElementSpacing = 1 1 2 0.5',
        'Offset = 0 0 0 0',
        'TransformMatrix = 1 0 0 0 0 1 0 0 0 0 1 0 0 0 0 1',
        'ElementType = MET_SHORT',
        'ElementDataFile = LOCAL',
      ],
      bytesOf(frames),
    );
    expect(await countFrames(file)).toBe(3);
    const opened = await openVolume(file);
    expect(opened.header.spacing).toEqual([1, 1, 2]);
    expect(opened.readFrame(2).data).toEqual(frames.subarray(2 * COUNT));
    expect(opened.readFrame(0).data).toEqual(frames.subarray(0, COUNT));
    expect((await rejection(readVolume(file))).code).toBe('unsupported_format');
  });

  it('reads the same header without loading voxels as when opening the whole file', async () => {
    for (const name of ['all-MET_SHORT.mhd', 'packed-sized.mhd', 'aliases.mha', 'series.mha']) {
      const file = join(dir, name);
      expect(await readVolumeHeader(file)).toEqual((await openVolume(file)).header);
    }
  });
});

describe('broken MetaImage files', () => {
  async function expectFailure(file: string, code: string, words: string[]) {
    for (const read of [readVolume, readVolumeHeader]) {
      const err = await rejection(read(file));
      expect(err.code, err.message).toBe(code);
      expect(err.file).toBe(file);
      for (const word of words) expect(err.message).toContain(word);
    }
  }

  it('names the missing data file', async () => {
    const file = join(dir, 'orphan.mhd');
    writeFileSync(
      file,
      header(['NDims = 3', 'DimSize = 2 2 2', 'ElementType = MET_UCHAR', 'ElementDataFile = orphan.raw']),
    );
    await expectFailure(file, 'unreadable_file', ['orphan.mhd', 'orphan.raw']);
  });

  it('refuses a data file of the wrong size', async () => {
    const file = writeFixture(
      'short.mhd',
      ['NDims = 3', 'DimSize = 4 4 4', 'ElementType = MET_SHORT', 'ElementDataFile = short.raw'],
      new Uint8Array(100),
      'short.raw',
    );
    await expectFailure(file, 'unreadable_file', ['short.mhd', '100 bytes', '128 bytes']);
  });

  it('refuses an unknown ElementType, multi-file data and a file that is no header', async () => {
    const unknown = writeFixture(
      'unknown.mha',
      ['NDims = 3', 'DimSize = 2 2 2', 'ElementType = MET_FLOAT128', 'ElementDataFile = LOCAL'],
      new Uint8Array(8),
    );
    await expectFailure(unknown, 'unsupported_format', ['unknown.mha', 'MET_FLOAT128']);
    const list = writeFixture(
      'list.mhd',
      ['NDims = 3', 'DimSize = 2 2 2', 'ElementType = MET_UCHAR', 'ElementDataFile = LIST'],
      new Uint8Array(),
      'unused.raw',
    );
    await expectFailure(list, 'unsupported_format', ['list.mhd', 'several files']);
    const pattern = writeFixture(
      'pattern.mhd',
      ['NDims = 3', 'DimSize = 2 2 2', 'ElementType = MET_UCHAR', 'ElementDataFile = slice%03d.raw 1 2 1'],
      new Uint8Array(),
      'unused2.raw',
    );
    await expectFailure(pattern, 'unsupported_format', ['pattern.mhd', 'several files']);
    const junk = join(dir, 'junk.mha');
    writeFileSync(junk, Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13]));
    await expectFailure(junk, 'unsupported_format', ['junk.mha', 'not a MetaImage header']);
    const appleDouble = join(dir, '._Case00.mhd');
    writeFileSync(appleDouble, Buffer.from([0, 5, 22, 7, 0, 2, 0, 0, 77, 97, 99]));
    await expectFailure(appleDouble, 'unsupported_format', ['._Case00.mhd', 'AppleDouble']);
    const noData = writeFixture(
      'nodata.mhd',
      ['NDims = 3', 'DimSize = 2 2 2', 'ElementType = MET_UCHAR'],
      new Uint8Array(),
      'nodata.raw',
    );
    await expectFailure(noData, 'unsupported_format', ['nodata.mhd', 'ElementDataFile']);
  });
});

describe('MetaImage writing', () => {
  const volume: Volume = {
    data: new Int16Array(COUNT).map((_, i) => i * 37 - 400),
    shape: [4, 3, 2],
    spacing: [0.3125, 0.3125, 3.6],
    origin: [-100.123456789, 42.5, -7.0000001],
    direction: [0.8, -0.6, 0, 0.6, 0.8, 0, 0, 0, 1],
    dataType: 'int16',
  };

  it('round-trips .mhd + .raw, .mhd + .zraw and .mha exactly', async () => {
    for (const [name, compress] of [
      ['w.mhd', false],
      ['wz.mhd', true],
      ['w.mha', false],
      ['wz.mha', true],
    ] as const) {
      const file = join(dir, name);
      await writeVolume(file, volume, undefined, { compress });
      expect(await readVolume(file)).toEqual(volume);
    }
    expect(readFileSync(join(dir, 'wz.mhd'), 'utf8')).toContain('ElementDataFile = wz.zraw');
  });

  it('refuses a requested type that would change values (MetaImage has no scaling)', async () => {
    const err = await rejection(writeMetaImage(join(dir, 'lossy.mhd'), volume, { dataType: 'uint8' }));
    expect(err.code).toBe('bad_request');
    expect(err.message).toContain('lossy.mhd');
  });

  it('writes files that numpy reads back with the same values and geometry', async () => {
    requirePython();
    const file = join(dir, 'for-numpy.mhd');
    await writeVolume(file, volume);
    const seen = runPython<{ header: Record<string, string>; data: number[]; dtype: string }>(
      String.raw`
import sys, json, os, numpy as np
path = sys.argv[1]
header = {}
for line in open(path):
    key, _, value = line.partition('=')
    header[key.strip()] = value.strip()
types = {'MET_SHORT': '<i2', 'MET_UCHAR': 'u1', 'MET_FLOAT': '<f4'}
assert header['BinaryDataByteOrderMSB'] == 'False'
shape = [int(v) for v in header['DimSize'].split()]
raw = np.fromfile(os.path.join(os.path.dirname(path), header['ElementDataFile']), dtype=types[header['ElementType']])
data = raw.reshape(shape, order='F')
print(json.dumps(dict(header=header, dtype=str(data.dtype), data=data.ravel(order='F').tolist())))
`,
      [file],
    );
    expect(seen.dtype).toBe('int16');
    expect(seen.data).toEqual(Array.from(volume.data));
    expect(seen.header.DimSize?.split(' ').map(Number)).toEqual(volume.shape);
    expect(seen.header.ElementSpacing?.split(' ').map(Number)).toEqual(volume.spacing);
    expect(seen.header.Offset?.split(' ').map(Number)).toEqual(volume.origin);
    // Axis-major, as ITK writes it: voxel axis i points along (0.8, 0.6, 0).
    expect(seen.header.TransformMatrix?.split(' ').map(Number)).toEqual([0.8, 0.6, 0, -0.6, 0.8, 0, 0, 0, 1]);
  });
});
