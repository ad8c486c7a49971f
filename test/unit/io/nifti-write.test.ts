import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { RandomStream } from '../../../core/base/random.ts';
import { rasAffineFromGeometry } from '../../../core/io/geometry.ts';
import { writeNifti } from '../../../core/io/nifti-write.ts';
import { readVolume, readVolumeHeader, writeVolume } from '../../../core/io/volume-files.ts';
import type { Mat3, Vec3, Volume, VoxelType } from '../../../core/io/volume.ts';
import { allocateVoxels } from '../../../core/io/voxel-types.ts';
import { makeTempDir, rejection, requirePython, runPython } from './helpers.ts';

let dir: string;
let remove: () => void;
beforeAll(() => {
  ({ dir, remove } = makeTempDir('nifti-write'));
});
afterAll(() => remove?.());

const TYPES: VoxelType[] = ['uint8', 'int8', 'uint16', 'int16', 'uint32', 'int32', 'float32', 'float64'];

/** A rotation about an arbitrary axis (Rodrigues), composed with an optional flip of the third axis. */
function rotation(axis: Vec3, degrees: number, flip = false): Mat3 {
  const n = Math.hypot(...axis);
  const [x, y, z] = axis.map((v) => v / n) as Vec3;
  const t = (degrees * Math.PI) / 180;
  const c = Math.cos(t);
  const s = Math.sin(t);
  const C = 1 - c;
  const m: Mat3 = [
    c + x * x * C,
    x * y * C - z * s,
    x * z * C + y * s,
    y * x * C + z * s,
    c + y * y * C,
    y * z * C - x * s,
    z * x * C - y * s,
    z * y * C + x * s,
    c + z * z * C,
  ];
  if (flip) for (const i of [2, 5, 8]) m[i] = -m[i]!;
  return m;
}

function volumeOf(type: VoxelType, shape: Vec3, direction: Mat3, seed: number): Volume {
  const random = RandomStream.fromSeed(seed, type);
  const data = allocateVoxels(type, shape[0] * shape[1] * shape[2]);
  for (let i = 0; i < data.length; i++) {
    data[i] = type.startsWith('float') ? random.normal() * 100 : random.int(120);
  }
  return { data, shape, spacing: [0.75, 1.25, 2.5], origin: [-12.5, 30.25, 7], direction, dataType: type };
}

describe('NIfTI writing', () => {
  it('round-trips every voxel type through .nii and .nii.gz within the project', async () => {
    for (const [n, type] of TYPES.entries()) {
      const volume = volumeOf(type, [5, 4, 3], rotation([1, 2, 3], 25 + n, n % 2 === 1), n);
      for (const ext of ['.nii', '.nii.gz']) {
        const file = join(dir, `round-${type}${ext}`);
        await writeVolume(file, volume);
        const back = await readVolume(file);
        expect(back.dataType).toBe(type);
        expect(back.data.constructor).toBe(volume.data.constructor);
        const expectedData =
          type === 'float64' ? volume.data : Array.from(volume.data, (v) => Math.fround(v));
        expect(Array.from(back.data)).toEqual(Array.from(expectedData));
        expect(back.shape).toEqual(volume.shape);
        const got = rasAffineFromGeometry(back);
        rasAffineFromGeometry(volume).forEach((v, i) => expect(got[i]).toBeCloseTo(v, 5));
      }
    }
    const header = await readVolumeHeader(join(dir, 'round-int16.nii.gz'));
    expect([header.nifti?.qformCode, header.nifti?.sformCode]).toEqual([1, 1]);
    expect(header.nifti?.voxOffset).toBe(352);
    expect(header.nifti?.xyztUnits).toBe(2);
  });

  it('writes "like" a source by copying its affine fields, codes and units bit for bit', async () => {
    const source = join(dir, 'source.nii.gz');
    await writeVolume(source, volumeOf('int16', [6, 5, 4], rotation([0, 1, 1], 33, true), 1));
    const header = await readVolumeHeader(source);
    const image = await readVolume(source);
    const label: Volume = { ...image, data: new Uint8Array(image.data.length).fill(2), dataType: 'uint8' };
    const target = join(dir, 'label.nii.gz');
    await writeVolume(target, label, header);
    const a = gunzipSync(readFileSync(source));
    const b = gunzipSync(readFileSync(target));
    // pixdim[0..3] (qfac and voxel sizes), xyzt_units, qform/sform codes, quaternion, offsets and srow.
    expect(b.subarray(76, 92)).toEqual(a.subarray(76, 92));
    expect(b[123]).toBe(a[123]);
    expect(b.subarray(252, 328)).toEqual(a.subarray(252, 328));
    expect(b.readInt16LE(70)).toBe(2);
  });

  it('writes a scaled int16 image back with its own scaling, so the stored integers are unchanged', async () => {
    const source = join(dir, 'scaled-source.nii');
    const stored = new Int16Array(60).map((_, i) => i * 7 - 200);
    await writeVolume(source, {
      data: stored,
      shape: [5, 4, 3],
      spacing: [1, 1, 1],
      origin: [0, 0, 0],
      direction: [1, 0, 0, 0, 1, 0, 0, 0, 1],
      dataType: 'int16',
    });
    const bytes = readFileSync(source);
    bytes.writeFloatLE(0.5, 112);
    bytes.writeFloatLE(-10, 116);
    const scaledFile = join(dir, 'scaled-in.nii');
    writeFileSync(scaledFile, bytes);
    const scaled = await readVolume(scaledFile);
    expect(scaled.data).toBeInstanceOf(Float32Array);
    const out = join(dir, 'scaled-out.nii');
    await writeVolume(out, scaled, await readVolumeHeader(scaledFile));
    const written = readFileSync(out);
    expect([written.readFloatLE(112), written.readFloatLE(116)]).toEqual([0.5, -10]);
    expect(
      new Int16Array(written.buffer.slice(written.byteOffset + 352, written.byteOffset + 352 + 120)),
    ).toEqual(stored);
    expect(Array.from((await readVolume(out)).data)).toEqual(Array.from(scaled.data));
  });

  it('reads a grid stored in metres or microns as millimetres', async () => {
    const file = join(dir, 'units.nii');
    await writeVolume(file, {
      ...volumeOf('uint8', [2, 2, 2], [1, 0, 0, 0, 1, 0, 0, 0, 1], 9),
      spacing: [0.5, 1, 2],
    });
    const bytes = readFileSync(file);
    for (const [code, factor] of [
      [1, 1000],
      [3, 0.001],
    ] as const) {
      bytes[123] = code;
      writeFileSync(file, bytes);
      const back = await readVolume(file);
      back.spacing.forEach((v, i) => expect(v).toBeCloseTo([0.5, 1, 2][i]! * factor, 6));
      back.origin.forEach((v, i) => expect(v).toBeCloseTo([-12.5, 30.25, 7][i]! * factor, 3));
    }
  });

  it('chooses a slope and intercept when float values are asked to be stored as integers', async () => {
    const data = new Float32Array(24).map((_, i) => i * 0.37 - 3.1);
    const volume: Volume = {
      data,
      shape: [4, 3, 2],
      spacing: [1, 1, 1],
      origin: [0, 0, 0],
      direction: [1, 0, 0, 0, 1, 0, 0, 0, 1],
      dataType: 'float32',
    };
    const file = join(dir, 'auto-scaled.nii.gz');
    await writeNifti(file, volume, { dataType: 'int16' });
    const back = await readVolume(file);
    expect(back.dataType).toBe('int16');
    const header = await readVolumeHeader(file);
    const step = header.nifti?.sclSlope ?? 0;
    expect(step).toBeGreaterThan(0);
    // Quantisation error is at most half a step (plus float32 rounding).
    expect(back.data).toHaveLength(data.length);
    back.data.forEach((v, i) =>
      expect(Math.abs(v - (data[i] as number))).toBeLessThanOrEqual(step / 2 + 1e-5),
    );
  });

  it('keeps values exact by default: float values in an int16-typed volume are stored as float32', async () => {
    const file = join(dir, 'default-float.nii');
    const data = new Float32Array([0.5, 1.25, -3.75, 8]);
    await writeVolume(file, {
      data,
      shape: [2, 2, 1],
      spacing: [1, 1, 1],
      origin: [0, 0, 0],
      direction: [1, 0, 0, 0, 1, 0, 0, 0, 1],
      dataType: 'int16',
    });
    const back = await readVolume(file);
    expect(back.dataType).toBe('float32');
    expect(Array.from(back.data)).toEqual(Array.from(data));
  });

  it('refuses inconsistent volumes, NaN as integers and wrong extensions with sentences naming the file', async () => {
    const base: Volume = {
      data: new Float32Array(8),
      shape: [2, 2, 2],
      spacing: [1, 1, 1],
      origin: [0, 0, 0],
      direction: [1, 0, 0, 0, 1, 0, 0, 0, 1],
      dataType: 'float32',
    };
    const short = await rejection(
      writeVolume(join(dir, 'short.nii'), { ...base, data: new Float32Array(7) }),
    );
    expect(short.code).toBe('bad_request');
    expect(short.message).toContain('short.nii');
    const spacing = await rejection(writeVolume(join(dir, 'spacing.nii'), { ...base, spacing: [1, 0, 1] }));
    expect(spacing.message).toContain('spacing');
    const nan = await rejection(
      writeNifti(
        join(dir, 'nan.nii'),
        { ...base, data: new Float32Array(8).fill(NaN) },
        { dataType: 'uint8' },
      ),
    );
    expect(nan.message).toContain('nan.nii');
    const ext = await rejection(writeNifti(join(dir, 'x.img'), base));
    expect(ext.code).toBe('bad_request');
    const folder = await rejection(writeVolume(join(dir, 'no-such-folder', 'x.nii.gz'), base));
    expect(folder.code).toBe('not_found');
  });
});

describe('NIfTI files written by the project, read by nibabel', () => {
  it('have identical shape, dtype, affine, zooms and data', async () => {
    requirePython();
    const cases: { name: string; volume: Volume; like?: string }[] = [
      { name: 'nb-u8.nii.gz', volume: volumeOf('uint8', [5, 6, 7], [-1, 0, 0, 0, -1, 0, 0, 0, 1], 1) },
      { name: 'nb-i16-oblique.nii', volume: volumeOf('int16', [4, 5, 3], rotation([3, -1, 2], 41), 2) },
      {
        name: 'nb-f32-flipped.nii.gz',
        volume: volumeOf('float32', [3, 4, 5], rotation([1, 1, 0], 70, true), 3),
      },
      { name: 'nb-f64.nii.gz', volume: volumeOf('float64', [2, 3, 4], rotation([0, 0, 1], 180), 4) },
      { name: 'nb-u16.nii', volume: volumeOf('uint16', [3, 3, 3], rotation([1, 0, 0], 90, true), 5) },
      { name: 'nb-i8.nii.gz', volume: volumeOf('int8', [3, 2, 4], rotation([2, 1, 1], 10), 6) },
      { name: 'nb-u32.nii.gz', volume: volumeOf('uint32', [3, 2, 2], rotation([1, 2, 1], 100), 7) },
      { name: 'nb-i32.nii', volume: volumeOf('int32', [2, 2, 3], rotation([1, 0, 1], 200, true), 8) },
    ];
    interface Seen {
      dtype: string;
      affine: number[];
      zooms: number[];
      data: number[];
      shape: number[];
    }
    const expected: Record<string, Seen> = {};
    for (const { name, volume } of cases) {
      await writeVolume(join(dir, name), volume);
      expected[name] = {
        dtype: volume.dataType,
        shape: volume.shape,
        zooms: volume.spacing.map(Math.fround),
        affine: rasAffineFromGeometry(volume),
        data: Array.from(volume.data, (v) => (volume.dataType === 'float64' ? v : Math.fround(v))),
      };
    }
    const read = runPython<Record<string, Seen & { qform: number[]; codes: number[] }>>(
      String.raw`
import sys, json, numpy as np, nibabel as nib
out = {}
for path in sys.argv[1:]:
    img = nib.load(path)
    data = np.asanyarray(img.dataobj)
    out[path.split('/')[-1]] = dict(dtype=str(data.dtype), shape=list(img.shape), affine=img.affine[:3].ravel().tolist(),
        qform=img.get_qform()[:3].ravel().tolist(), codes=[int(img.header['qform_code']), int(img.header['sform_code'])],
        zooms=[float(z) for z in img.header.get_zooms()], data=data.ravel(order='F').tolist())
print(json.dumps(out))
`,
      cases.map(({ name }) => join(dir, name)),
    );
    for (const { name } of cases) {
      const want = expected[name]!;
      const got = read[name]!;
      expect(got.dtype, name).toBe(want.dtype);
      expect(got.shape, name).toEqual(want.shape);
      expect(got.zooms, name).toEqual(want.zooms);
      expect(got.data, name).toEqual(want.data);
      // float32 header fields: agreement to float32 precision of coordinates tens of mm across.
      got.affine.forEach((v, i) => expect(v, `${name} affine[${i}]`).toBeCloseTo(want.affine[i]!, 4));
      // Viewers that trust the qform (ITK-SNAP may) must see the same grid as those that trust the sform.
      expect(got.codes, name).toEqual([1, 1]);
      got.qform.forEach((v, i) => expect(v, `${name} qform[${i}]`).toBeCloseTo(want.affine[i]!, 4));
    }
  });
});
