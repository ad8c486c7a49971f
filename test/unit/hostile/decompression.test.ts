// Problem 2 of issue 16: decompression and reading stop at what the header declares. A real case with 1 GiB
// of zeros appended inside its gzip stream (built as a stream, ~5 MB on disk), 3 GiB of zeros after the
// stream or after plain voxels (sparse files, no disk used), and headers declaring far more than their file
// holds: each is a named problem of its case, found fast, with the process's memory staying within a fixed
// bound of the largest declared volume.
import { spawnSync } from 'node:child_process';
import { readFileSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readVolume, readVolumeHeader, verifyVolume, writeVolume } from '../../../core/io/volume-files.ts';
import { inspectDataset } from '../../../core/service/datasets.ts';
import { tempDirs } from '../../fixtures/temp-dir.ts';
import { demoImage, demoLabel, expectNamedError, makeMsdFolder, memoryProbe, within } from './helpers.ts';

const temp = tempDirs('hostile-bomb');
afterAll(temp.cleanup);

const GIB = 2 ** 30;
/** Growth of peak RSS allowed over the whole file: the declared volumes here are below 1 MB each. */
const MEMORY_BOUND_MIB = 96;

let root: string;
let bomb: string;
const probe = { peak: () => 0 };

/**
 * The real case's decompressed bytes, then `zeros` zero bytes, as one gzip stream written chunk by chunk, in
 * a child process: its memory must not count in this process's peak.
 */
function gzipWithZeros(file: string, plainFile: string, zeros: number): void {
  const script = `
    const { createReadStream, createWriteStream } = require('node:fs');
    const { Readable } = require('node:stream');
    const { pipeline } = require('node:stream/promises');
    const zlib = require('node:zlib');
    const [file, plain, zeros] = process.argv.slice(1);
    const chunk = Buffer.alloc(1 << 20);
    async function* bytes() {
      for await (const b of createReadStream(plain).pipe(zlib.createGunzip())) yield b;
      for (let left = Number(zeros); left > 0; left -= chunk.length) yield chunk.subarray(0, Math.min(left, chunk.length));
    }
    pipeline(Readable.from(bytes()), zlib.createGzip({ level: 1 }), createWriteStream(file)).catch((e) => {
      console.error(e);
      process.exit(1);
    });`;
  const built = spawnSync(process.execPath, ['-e', script, file, plainFile, String(zeros)], {
    encoding: 'utf8',
  });
  if (built.status !== 0) throw new Error(`building ${file} failed: ${built.stderr}`);
}

beforeAll(async () => {
  root = temp.make();
  makeMsdFolder(root, ['hippocampus_001', 'hippocampus_003']);
  bomb = join(root, 'imagesTr', 'hippocampus_003.nii.gz');
  gzipWithZeros(bomb, demoImage('hippocampus_003'), GIB);
  const { peakGrowthMiB } = memoryProbe();
  probe.peak = peakGrowthMiB;
});

afterAll(() => {
  console.info(`hostile decompression: peak RSS growth ${probe.peak().toFixed(1)} MiB`);
});

describe('a real case with 1 GiB of zeros appended inside its gzip stream', () => {
  it('is built small: the test itself never holds the gigabyte', () => {
    expect(readFileSync(bomb).length).toBeLessThan(16 * 2 ** 20);
  });

  it('is a named problem of its case when the folder is inspected; the other case stays usable', async () => {
    const started = Date.now();
    const report = await within(20_000, 'inspecting the folder', inspectDataset(root));
    expect(Date.now() - started).toBeLessThan(10_000);
    const hostile = report.cases.find((c) => c.id === 'hippocampus_003');
    expect(hostile?.ok).toBe(false);
    expect(hostile?.problems[0]?.file).toBe(bomb);
    expect(hostile?.problems[0]?.message).toContain(
      'hippocampus_003.nii.gz holds more than its header declares',
    );
    expect(report.cases.find((c) => c.id === 'hippocampus_001')?.ok).toBe(true);
    expect(probe.peak()).toBeLessThan(MEMORY_BOUND_MIB);
  });

  it('is refused by every reader without inflating the gigabyte', async () => {
    for (const read of [readVolumeHeader, verifyVolume, readVolume]) {
      const err = await within(
        5_000,
        read.name,
        read(bomb).catch((e: unknown) => e),
      );
      expect(expectNamedError(err, bomb).code).toBe('unreadable_file');
    }
    expect(probe.peak()).toBeLessThan(MEMORY_BOUND_MIB);
  });
});

describe('3 GiB of zeros after the data (sparse files: no disk is used)', () => {
  it('after a gzip stream, after plain NIfTI voxels, after .mha voxels: each named, none read', async () => {
    const dir = temp.make();
    const gz = join(dir, 'after-stream.nii.gz');
    writeFileSync(gz, readFileSync(demoImage('hippocampus_001')));
    const plain = join(dir, 'after-voxels.nii');
    writeFileSync(plain, gunzipSync(readFileSync(demoImage('hippocampus_001'))));
    const mha = join(dir, 'after-voxels.mha');
    await writeVolume(mha, await readVolume(demoLabel('hippocampus_001')));
    const expected: [string, string][] = [
      [gz, 'after the end of its compressed data'],
      [plain, `${3 * GIB} more bytes`],
      [mha, `${3 * GIB} more bytes`],
    ];
    for (const [file, words] of expected) {
      const size = readFileSync(file).length;
      truncateSync(file, size + 3 * GIB);
      for (const read of [readVolumeHeader, verifyVolume, readVolume]) {
        const err = await within(
          5_000,
          `${read.name} ${file}`,
          read(file).catch((e: unknown) => e),
        );
        if (read === readVolumeHeader && file === gz) {
          // The header alone trusts the gzip trailer; the cheap check is not the whole check.
          continue;
        }
        expect(expectNamedError(err, file).message).toContain(words);
      }
    }
    expect(probe.peak()).toBeLessThan(MEMORY_BOUND_MIB);
  });
});

describe('headers that declare more than their file holds', () => {
  it('small gzips declaring 30000³ or 1000³ int16 voxels, a plain file declaring 1000³: named before allocating', async () => {
    const dir = temp.make();
    const plain = gunzipSync(readFileSync(demoImage('hippocampus_001')));
    const declaring = (name: string, n: number): string => {
      const huge = Buffer.from(plain);
      for (let i = 0; i < 3; i++) huge.writeInt16LE(n, 42 + 2 * i);
      huge.writeInt16LE(4, 70);
      huge.writeInt16LE(16, 72);
      writeFileSync(join(dir, name), gzipSync(huge));
      return join(dir, name);
    };
    const cube = Buffer.from(plain);
    for (let i = 0; i < 3; i++) cube.writeInt16LE(1000, 42 + 2 * i);
    const nii = join(dir, 'cube.nii');
    writeFileSync(nii, cube);
    for (const [file, words] of [
      [declaring('huge.nii.gz', 30000), 'more than one image file can hold'],
      [declaring('large.nii.gz', 1000), 'compressed bytes can hold'],
      [nii, 'truncated'],
    ] as const) {
      for (const read of [readVolumeHeader, verifyVolume, readVolume]) {
        const err = await within(
          5_000,
          read.name,
          read(file).catch((e: unknown) => e),
        );
        expect(expectNamedError(err, file).message).toContain(words);
      }
    }
    expect(probe.peak()).toBeLessThan(MEMORY_BOUND_MIB);
  });

  it('missing data: a stream cut short is named as truncated', async () => {
    const dir = temp.make();
    const whole = readFileSync(demoImage('hippocampus_001'));
    const cut = join(dir, 'cut.nii.gz');
    writeFileSync(cut, whole.subarray(0, whole.length - 1000));
    for (const read of [verifyVolume, readVolume]) {
      const err = await read(cut).catch((e: unknown) => e);
      expect(expectNamedError(err, cut).message).toMatch(/truncated/);
    }
  });
});
