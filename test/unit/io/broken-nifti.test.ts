import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { readVolume, readVolumeHeader, writeVolume } from '../../../core/io/volume-files.ts';
import type { Volume } from '../../../core/io/volume.ts';
import { makeTempDir, rejection } from './helpers.ts';

let dir: string;
let remove: () => void;
let plain: Buffer;

const volume: Volume = {
  data: new Int16Array(1000).map((_, i) => (i * 7919) % 4001),
  shape: [10, 10, 10],
  spacing: [1, 1, 1],
  origin: [0, 0, 0],
  direction: [1, 0, 0, 0, 1, 0, 0, 0, 1],
  dataType: 'int16',
};

beforeAll(async () => {
  ({ dir, remove } = makeTempDir('broken'));
  await writeVolume(join(dir, 'good.nii'), volume);
  plain = readFileSync(join(dir, 'good.nii'));
});
afterAll(() => remove?.());

function fixture(name: string, bytes: Uint8Array): string {
  const file = join(dir, name);
  writeFileSync(file, bytes);
  return file;
}

function patched(edit: (b: Buffer) => void): Buffer {
  const copy = Buffer.from(plain);
  edit(copy);
  return copy;
}

type Reader = typeof readVolume | typeof readVolumeHeader;

async function expectFailure(
  file: string,
  code: string,
  words: string[],
  readers: Reader[] = [readVolume, readVolumeHeader],
) {
  for (const read of readers) {
    const err = await rejection(read(file));
    expect(err.code, `${read.name}: ${err.message}`).toBe(code);
    expect(err.file).toBe(file);
    expect(err.message).toContain(basename(file));
    expect(err.message).toMatch(/\.$/);
    for (const word of words) expect(err.message).toContain(word);
  }
}

describe('broken NIfTI files', () => {
  it('reads the intact fixture (so the failures below are the edits)', async () => {
    expect((await readVolume(join(dir, 'good.nii'))).data).toEqual(volume.data);
  });

  it('accepts valid oddities: several gzip members, vox_offset 0', async () => {
    const members = fixture(
      'members.nii.gz',
      Buffer.concat([gzipSync(plain.subarray(0, 900)), gzipSync(plain.subarray(900))]),
    );
    const zeroOffset = fixture(
      'zero-offset.nii',
      patched((b) => b.writeFloatLE(0, 108)),
    );
    for (const file of [members, zeroOffset]) {
      expect((await readVolumeHeader(file)).shape).toEqual([10, 10, 10]);
      expect((await readVolume(file)).data).toEqual(volume.data);
    }
  });

  it('refuses data past the declared voxels, in the stream, after it, or in a plain file', async () => {
    const inStream = fixture('trailing.nii.gz', gzipSync(Buffer.concat([plain, Buffer.alloc(64)])));
    await expectFailure(inStream, 'unreadable_file', ['more than its header declares', 'once decompressed']);
    const afterStream = fixture('after.nii.gz', Buffer.concat([gzipSync(plain), Buffer.alloc(64)]));
    await expectFailure(afterStream, 'unreadable_file', ['64 bytes after the end of its compressed data']);
    const plainTrailing = fixture('trailing.nii', Buffer.concat([plain, Buffer.alloc(64)]));
    await expectFailure(plainTrailing, 'unreadable_file', ['64 more bytes']);
  });

  it('a gzipped file cut short in its voxels or in its header', async () => {
    const whole = gzipSync(plain);
    await expectFailure(fixture('cut.nii.gz', whole.subarray(0, whole.length >> 1)), 'unreadable_file', [
      'truncated',
    ]);
    await expectFailure(fixture('cut-header.nii.gz', whole.subarray(0, 40)), 'unreadable_file', [
      'truncated',
    ]);
  });

  it('a plain file cut short', async () => {
    await expectFailure(fixture('cut.nii', plain.subarray(0, 352 + 100)), 'unreadable_file', [
      'truncated',
      '2000 bytes',
    ]);
  });

  it('a complete file whose header declares more voxels than it holds', async () => {
    const bigger = patched((b) => b.writeInt16LE(20, 42));
    await expectFailure(fixture('mismatch.nii.gz', gzipSync(bigger)), 'unreadable_file', [
      '20×10×10',
      'header',
    ]);
  });

  it('a macOS AppleDouble companion named like a NIfTI file', async () => {
    const apple = Buffer.concat([
      Buffer.from([0, 5, 22, 7, 0, 2, 0, 0]),
      Buffer.from('Mac OS X        '),
      Buffer.alloc(4000),
    ]);
    await expectFailure(fixture('._hippocampus_001.nii.gz', apple), 'unsupported_format', ['AppleDouble']);
  });

  it('a wrong magic, a .hdr/.img pair magic, and files that are no NIfTI at all', async () => {
    await expectFailure(
      fixture(
        'magic.nii',
        patched((b) => b.write('xyz', 344, 'latin1')),
      ),
      'unsupported_format',
      ['magic'],
    );
    await expectFailure(
      fixture(
        'pair.nii',
        patched((b) => b.write('ni1', 344, 'latin1')),
      ),
      'unsupported_format',
      ['.hdr/.img'],
    );
    await expectFailure(fixture('text.nii.gz', Buffer.from('this is not an image\n')), 'unsupported_format', [
      'not a NIfTI',
    ]);
    await expectFailure(
      fixture('gzipped-text.nii.gz', gzipSync(Buffer.alloc(2000, 'a'))),
      'unsupported_format',
      ['not a NIfTI'],
    );
    await expectFailure(fixture('empty.nii', new Uint8Array(0)), 'unreadable_file', ['empty']);
  });

  it('corrupt compressed data', async () => {
    const whole = Buffer.from(gzipSync(plain));
    for (let i = 200; i < 260; i++) whole[i] = (whole[i] as number) ^ 0x5a;
    await expectFailure(fixture('corrupt.nii.gz', whole), 'unreadable_file', ['damaged'], [readVolume]);
  });

  it('voxel types and dimensions that cannot be read', async () => {
    const complex = patched((b) => {
      b.writeInt16LE(32, 70);
      b.writeInt16LE(64, 72);
    });
    await expectFailure(fixture('complex.nii', complex), 'unsupported_format', ['complex64']);
    await expectFailure(
      fixture(
        'rank0.nii',
        patched((b) => b.writeInt16LE(0, 40)),
      ),
      'unreadable_file',
      ['0 dimensions'],
    );
    const fiveD = patched((b) => {
      b.writeInt16LE(5, 40);
      b.writeInt16LE(1, 48);
      b.writeInt16LE(3, 50);
    });
    await expectFailure(fixture('vectors.nii', fiveD), 'unsupported_format', ['5-dimensional']);
  });

  it('a missing file, a folder and an unknown extension', async () => {
    await expectFailure(join(dir, 'absent.nii.gz'), 'not_found', ['does not exist']);
    mkdirSync(join(dir, 'folder.nii'));
    await expectFailure(join(dir, 'folder.nii'), 'unsupported_format', ['folder']);
    await expectFailure(fixture('analyze.hdr', plain), 'unsupported_format', ['.nii.gz']);
  });
});
