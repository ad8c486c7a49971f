// Generated corruptions of real NIfTI and MetaImage files (a Decathlon hippocampus case): header fields set
// to extremes, truncations at many offsets, damaged bytes and wrong compression, in one bounded loop with a
// fixed seed. Every input must read as a self-consistent volume or fail with an EmonasError naming the
// file: never another exception, never a hang, never memory beyond the bound. Then a dataset folder of such
// cases is inspected: every broken one is a named problem, the folder is never a crash.
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { deflateSync, gunzipSync, gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EmonasError } from '../../../core/base/errors.ts';
import { RandomStream } from '../../../core/base/random.ts';
import { readVolume, readVolumeHeader, verifyVolume, writeVolume } from '../../../core/io/volume-files.ts';
import { voxelCount } from '../../../core/io/volume.ts';
import { inspectDataset } from '../../../core/service/datasets.ts';
import { tempDirs } from '../../fixtures/temp-dir.ts';
import { demoImage, demoLabel, expectNamedError, makeMsdFolder, memoryProbe, within } from './helpers.ts';

const temp = tempDirs('hostile-fuzz');
afterAll(temp.cleanup);

const SEED = 16;
/** Peak RSS growth allowed while every input is read: the real volume is ~0.2 MB, so this is all margin. */
const MEMORY_BOUND_MIB = 128;
/** Per reader call; the slowest real call here takes a few milliseconds. */
const CALL_LIMIT_MS = 5_000;

interface Input {
  file: string;
  what: string;
}

let dir: string;
let plain: Buffer;
let gz: Buffer;
let mhaHeader: string;
let mhaVoxels: Buffer;
let mhdHeader: string;
let raw: Buffer;
let zraw: Buffer;
const inputs: Input[] = [];
const tally = { accepted: 0, refused: 0, calls: 0 };
/** The inputs verifyVolume refused: what dataset inspection must report as broken. */
const refusedWhole = new Set<string>();
const probe = { peak: () => 0 };

let serial = 0;
function add(what: string, extension: string, bytes: Uint8Array | string): string {
  const file = join(dir, `i${String(++serial).padStart(4, '0')}${extension}`);
  writeFileSync(file, bytes);
  inputs.push({ file, what });
  return file;
}

/** A MetaImage header with `key` set to `value` (added before ElementDataFile when absent, dropped when null). */
function withField(header: string, key: string, value: string | null): string {
  const line = new RegExp(`^${key} = .*$`, 'm');
  if (value === null) return header.replace(new RegExp(`^${key} = .*\\n`, 'm'), '');
  if (line.test(header)) return header.replace(line, `${key} = ${value}`);
  return header.replace(/^ElementDataFile = /m, `${key} = ${value}\nElementDataFile = `);
}

/** The .mhd header pointing at its own copy of the data file, so each input is independent. */
function mhdInput(what: string, header: string, data: Buffer, dataName?: string): void {
  const id = `d${String(serial + 1).padStart(4, '0')}`;
  const name = dataName ?? `${id}.raw`;
  if (dataName === undefined) writeFileSync(join(dir, name), data);
  add(what, '.mhd', header.replace(/^ElementDataFile = .*$/m, `ElementDataFile = ${name}`));
}

const INT16 = [0, -1, 1, 7, 8, 255, 32767, -32768];
const FLOAT32 = [0, -1, Number.NaN, Infinity, -Infinity, 1e38, -3.4e38, 1e-38];
const INT32 = [0, -1, 2 ** 31 - 1, -(2 ** 31), 540];

/** NIfTI-1 header fields: name, byte offset, how stored. */
const NIFTI_FIELDS: [string, number, 'i16' | 'f32' | 'i32' | 'u8'][] = [
  ['sizeof_hdr', 0, 'i32'],
  ['dim[0]', 40, 'i16'],
  ['dim[1]', 42, 'i16'],
  ['dim[2]', 44, 'i16'],
  ['dim[3]', 46, 'i16'],
  ['dim[4]', 48, 'i16'],
  ['dim[5]', 50, 'i16'],
  ['datatype', 70, 'i16'],
  ['bitpix', 72, 'i16'],
  ['pixdim[0]', 76, 'f32'],
  ['pixdim[1]', 80, 'f32'],
  ['pixdim[2]', 84, 'f32'],
  ['pixdim[3]', 88, 'f32'],
  ['vox_offset', 108, 'f32'],
  ['scl_slope', 112, 'f32'],
  ['scl_inter', 116, 'f32'],
  ['xyzt_units', 123, 'u8'],
  ['qform_code', 252, 'i16'],
  ['sform_code', 254, 'i16'],
  ['quatern_b', 256, 'f32'],
  ['qoffset_x', 268, 'f32'],
  ['srow_x[0]', 280, 'f32'],
  ['srow_z[3]', 324, 'f32'],
];

function niftiFieldInputs(): void {
  for (const [name, offset, kind] of NIFTI_FIELDS) {
    const values = kind === 'f32' ? FLOAT32 : kind === 'i32' ? INT32 : kind === 'u8' ? [0, 1, 3, 255] : INT16;
    for (const value of values) {
      const bytes = Buffer.from(plain);
      if (kind === 'i16') bytes.writeInt16LE(value, offset);
      else if (kind === 'i32') bytes.writeInt32LE(value, offset);
      else if (kind === 'u8') bytes.writeUInt8(value, offset);
      else bytes.writeFloatLE(value, offset);
      add(`${name} = ${value} (plain)`, '.nii', bytes);
      add(`${name} = ${value} (gzip)`, '.nii.gz', gzipSync(bytes, { level: 1 }));
    }
  }
  for (const magic of ['ni1\0', 'n+2\0', 'abc\0', '\0\0\0\0']) {
    const bytes = Buffer.from(plain);
    bytes.write(magic, 344, 'latin1');
    add(`magic ${JSON.stringify(magic)}`, '.nii', bytes);
  }
}

/** Offsets to cut at: every byte of the first few, the header's edges, and seeded ones over the rest. */
function cutOffsets(length: number, random: RandomStream, count: number): number[] {
  const fixed = [0, 1, 2, 3, 4, 10, 100, 347, 348, 351, 352, 353, length - 1];
  const offsets = new Set(fixed.filter((n) => n < length));
  while (offsets.size < count) offsets.add(random.int(length));
  return [...offsets].sort((a, b) => a - b);
}

function truncationInputs(random: RandomStream): void {
  for (const at of cutOffsets(gz.length, random, 60)) add(`gzip cut at ${at}`, '.nii.gz', gz.subarray(0, at));
  for (const at of cutOffsets(plain.length, random, 40))
    add(`plain cut at ${at}`, '.nii', plain.subarray(0, at));
  const mha = Buffer.concat([Buffer.from(mhaHeader, 'latin1'), mhaVoxels]);
  for (const at of cutOffsets(mha.length, random, 40)) add(`.mha cut at ${at}`, '.mha', mha.subarray(0, at));
  const compressed = withField(withField(mhaHeader, 'CompressedData', 'True'), 'CompressedDataSize', null);
  const packed = Buffer.concat([Buffer.from(compressed, 'latin1'), zraw]);
  for (const at of cutOffsets(packed.length, random, 30)) {
    add(`compressed .mha cut at ${at}`, '.mha', packed.subarray(0, at));
  }
  for (const at of cutOffsets(zraw.length, random, 20)) {
    mhdInput(`.zraw cut at ${at}`, withField(mhdHeader, 'CompressedData', 'True'), zraw.subarray(0, at));
  }
  for (const at of cutOffsets(raw.length, random, 20))
    mhdInput(`.raw cut at ${at}`, mhdHeader, raw.subarray(0, at));
}

function damageInputs(random: RandomStream): void {
  for (let n = 0; n < 60; n++) {
    const bytes = Buffer.from(gz);
    const flips = 1 + random.int(8);
    for (let f = 0; f < flips; f++) bytes[random.int(bytes.length)] = random.int(256);
    add(`gzip with ${flips} damaged bytes (#${n})`, '.nii.gz', bytes);
  }
  for (let n = 0; n < 40; n++) {
    const bytes = Buffer.from(plain);
    const flips = 1 + random.int(8);
    for (let f = 0; f < flips; f++) bytes[random.int(352)] = random.int(256);
    add(`header with ${flips} damaged bytes (#${n})`, '.nii', bytes);
  }
  for (let n = 0; n < 20; n++) {
    const bytes = Buffer.from(zraw);
    bytes[random.int(bytes.length)] = random.int(256);
    mhdInput(`.zraw with a damaged byte (#${n})`, withField(mhdHeader, 'CompressedData', 'True'), bytes);
  }
}

function wrongCompressionInputs(): void {
  add('plain NIfTI named .nii.gz', '.nii.gz', plain);
  add('gzip named .nii', '.nii', gz);
  add('zlib stream named .nii.gz', '.nii.gz', deflateSync(plain));
  add('gzip of gzip', '.nii.gz', gzipSync(gz));
  add('bzip2 magic', '.nii.gz', Buffer.concat([Buffer.from('BZh91AY&SY'), gz.subarray(10)]));
  add('zstd magic', '.nii.gz', Buffer.concat([Buffer.from([0x28, 0xb5, 0x2f, 0xfd]), gz.subarray(4)]));
  const method = Buffer.from(gz);
  method[2] = 7;
  add('gzip with compression method 7', '.nii.gz', method);
  const flags = Buffer.from(gz);
  flags[3] = 0xff;
  add('gzip with every flag set', '.nii.gz', flags);
  add('gzip trailer missing', '.nii.gz', gz.subarray(0, gz.length - 8));
  add('empty file', '.nii.gz', Buffer.alloc(0));
  add('AppleDouble companion', '.nii', Buffer.concat([Buffer.from([0, 5, 0x16, 7]), plain.subarray(4)]));
  const compressedFlag = withField(mhaHeader, 'CompressedData', 'True');
  add(
    'CompressedData = True over raw voxels',
    '.mha',
    Buffer.concat([Buffer.from(compressedFlag, 'latin1'), mhaVoxels]),
  );
  add(
    'CompressedData = False over zlib voxels',
    '.mha',
    Buffer.concat([Buffer.from(mhaHeader, 'latin1'), zraw]),
  );
  mhdInput('.zraw that is gzip, not zlib', withField(mhdHeader, 'CompressedData', 'True'), gzipSync(raw));
  mhdInput('.zraw that is raw', withField(mhdHeader, 'CompressedData', 'True'), raw);
  for (const size of [
    '1',
    '100',
    String(zraw.length - 1),
    String(zraw.length + 1),
    '0',
    '-5',
    'NaN',
    '1e20',
    '2.5',
  ]) {
    const header = withField(withField(mhdHeader, 'CompressedData', 'True'), 'CompressedDataSize', size);
    mhdInput(`CompressedDataSize = ${size}`, header, zraw);
  }
}

const META_FIELDS: [string, (string | null)[]][] = [
  ['NDims', ['0', '1', '5', '-3', 'NaN', '1e9', '3.5', null]],
  [
    'DimSize',
    [
      '0 0 0',
      '-1 5 5',
      '1e12 1 1',
      'NaN 1 1',
      '4294967296 4294967296 1',
      '3 3',
      '',
      'a b c',
      '1 1 1',
      '100000 100000 100000',
      null,
    ],
  ],
  ['ElementSpacing', ['NaN 1 1', '0 1 1', '-1 1 1', '1e309 1 1', 'Infinity 1 1', '1', null]],
  ['ElementType', ['MET_FOO', '', 'MET_LONG_LONG', 'MET_FLOAT_ARRAY', 'MET_DOUBLE', 'MET_UCHAR', null]],
  ['HeaderSize', ['-2', 'NaN', '1e30', '999999999', '-1', '1', '3.5']],
  ['ElementNumberOfChannels', ['3', '0', 'NaN']],
  ['BinaryData', ['False']],
  ['BinaryDataByteOrderMSB', ['True']],
  ['ObjectType', ['Mesh']],
  ['Offset', ['NaN 0 0', '1e400 0 0']],
  ['TransformMatrix', ['0 0 0 0 0 0 0 0 0', 'NaN 0 0 0 1 0 0 0 1', '1 0 0', '-1 0 0 0 -1 0 0 0 -1']],
];

function metaFieldInputs(): void {
  for (const [key, values] of META_FIELDS) {
    for (const value of values) {
      mhdInput(`${key} = ${String(value)}`, withField(mhdHeader, key, value), raw);
      add(
        `${key} = ${String(value)} (.mha)`,
        '.mha',
        Buffer.concat([Buffer.from(withField(mhaHeader, key, value), 'latin1'), mhaVoxels]),
      );
    }
  }
  for (const name of [
    '',
    'LIST',
    '%03d.raw',
    '/etc/passwd',
    '../../x.raw',
    'missing.raw',
    '.',
    '..',
    '/dev/zero',
    '/proc/self/environ',
  ]) {
    mhdInput(`ElementDataFile = ${name}`, mhdHeader, raw, name);
  }
  add('a 2 MiB header line', '.mha', `ObjectType = Image\nComment = ${'x'.repeat(2 * 2 ** 20)}`);
  add('no ElementDataFile', '.mha', withField(mhaHeader, 'ElementDataFile', null));
  add('not Key = Value', '.mhd', 'this is not a header\n');
}

const READERS: ((file: string) => Promise<unknown>)[] = [readVolumeHeader, verifyVolume, readVolume];

async function readEach(input: Input): Promise<void> {
  for (const read of READERS) {
    tally.calls++;
    let outcome: unknown;
    try {
      outcome = await within(CALL_LIMIT_MS, `${read.name} on ${input.what}`, read(input.file));
    } catch (err) {
      if (!(err instanceof EmonasError) && err instanceof Error && err.message.includes('took longer')) {
        throw err;
      }
      expectNamedError(err, input.file);
      tally.refused++;
      if (read === verifyVolume) refusedWhole.add(input.file);
      continue;
    }
    tally.accepted++;
    if (read === readVolume) {
      const volume = outcome as Awaited<ReturnType<typeof readVolume>>;
      expect(volume.data.length, input.what).toBe(voxelCount(volume.shape));
      expect(
        volume.spacing.every((s) => Number.isFinite(s) && s > 0),
        input.what,
      ).toBe(true);
      expect([...volume.origin, ...volume.direction].every(Number.isFinite), input.what).toBe(true);
    }
  }
}

beforeAll(async () => {
  dir = temp.make();
  gz = readFileSync(demoImage('hippocampus_001'));
  plain = gunzipSync(gz);
  const label = await readVolume(demoLabel('hippocampus_001'));
  await writeVolume(join(dir, 'source.mha'), label);
  const mha = readFileSync(join(dir, 'source.mha'));
  const split = mha.indexOf('ElementDataFile = LOCAL\n') + 'ElementDataFile = LOCAL\n'.length;
  mhaHeader = mha.subarray(0, split).toString('latin1');
  mhaVoxels = mha.subarray(split);
  await writeVolume(join(dir, 'source.mhd'), label);
  mhdHeader = readFileSync(join(dir, 'source.mhd'), 'latin1');
  raw = readFileSync(join(dir, 'source.raw'));
  zraw = deflateSync(raw);
  const random = RandomStream.fromSeed(SEED, 'hostile-corruptions');
  niftiFieldInputs();
  truncationInputs(random);
  damageInputs(random);
  wrongCompressionInputs();
  metaFieldInputs();
  probe.peak = memoryProbe().peakGrowthMiB;
});

afterAll(() => {
  console.info(
    `hostile corruptions: ${inputs.length} inputs, ${tally.calls} reader calls (${tally.accepted} read, ${tally.refused} refused with a named EmonasError), peak RSS growth ${probe.peak().toFixed(1)} MiB`,
  );
});

describe(`${'corrupted NIfTI and MetaImage files'} (seed ${SEED})`, () => {
  it('every input reads as a consistent volume or fails with an EmonasError naming it, in time', async () => {
    expect(inputs.length).toBeGreaterThan(700);
    for (const input of inputs) await readEach(input);
    expect(tally.calls).toBe(inputs.length * 3);
    // The loop must exercise both outcomes: refusals are most of it, and benign edits still read.
    expect(tally.refused).toBeGreaterThan(tally.calls / 2);
    expect(tally.accepted).toBeGreaterThan(0);
    expect(probe.peak()).toBeLessThan(MEMORY_BOUND_MIB);
  });

  it('a dataset folder of corrupted cases inspects without a crash, each refused file a named problem', async () => {
    const root = temp.make();
    const corrupted = inputs.filter((i) => i.file.endsWith('.nii.gz')).slice(0, 120);
    expect(corrupted.length).toBe(120);
    mkdirSync(join(root, 'imagesTr'));
    mkdirSync(join(root, 'labelsTr'));
    const extra = corrupted.map((input, n) => {
      const name = `corrupt_${String(n).padStart(3, '0')}.nii.gz`;
      copyFileSync(input.file, join(root, 'imagesTr', name));
      copyFileSync(demoLabel('hippocampus_001'), join(root, 'labelsTr', name));
      return { image: `./imagesTr/${name}`, label: `./labelsTr/${name}` };
    });
    makeMsdFolder(root, ['hippocampus_001'], extra);
    const report = await within(30_000, 'inspecting the corrupted folder', inspectDataset(root));
    expect(report.cases).toHaveLength(121);
    const refused = corrupted.flatMap((input, n) => (refusedWhole.has(input.file) ? [n] : []));
    expect(refused.length).toBeGreaterThan(20);
    for (const n of refused) {
      const entry = report.cases.find((c) => c.id === `corrupt_${String(n).padStart(3, '0')}`);
      expect(entry?.ok, corrupted[n]?.what).toBe(false);
    }
    const broken = report.cases.filter((c) => !c.ok);
    for (const entry of broken) {
      expect(entry.problems.length).toBeGreaterThan(0);
      for (const problem of entry.problems) expect(problem.message).toContain(basename(problem.file));
    }
    expect(report.cases.find((c) => c.id === 'hippocampus_001')?.ok).toBe(true);
    expect(probe.peak()).toBeLessThan(MEMORY_BOUND_MIB);
  });
});
