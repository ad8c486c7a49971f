import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { rasAffineFromGeometry, det3 } from '../../../core/io/geometry.ts';
import {
  countFrames,
  openVolume,
  readFrame,
  readVolume,
  readVolumeHeader,
} from '../../../core/io/volume-files.ts';
import type { Volume } from '../../../core/io/volume.ts';
import { makeTempDir, rejection, requirePython, runPython } from './helpers.ts';

interface Expected {
  shape: number[];
  dtype: string;
  affine: number[];
  zooms: number[];
  data: number[];
  pixdim0: number;
  qform_code: number;
  sform_code: number;
}

// Fixtures written by nibabel (an independent writer); expected values are nibabel's reading of them.
const FIXTURES = String.raw`
import sys, json, gzip, shutil, struct
import numpy as np, nibabel as nib
d = sys.argv[1]
rng = np.random.default_rng(4)

def rot(axis, deg):
    t = np.deg2rad(deg); c, s = np.cos(t), np.sin(t)
    m = {'x': [[1,0,0],[0,c,-s],[0,s,c]], 'y': [[c,0,s],[0,1,0],[-s,0,c]], 'z': [[c,-s,0],[s,c,0],[0,0,1]]}[axis]
    return np.array(m)

def affine(r, zooms, offset):
    a = np.eye(4); a[:3,:3] = r @ np.diag(zooms); a[:3,3] = offset; return a

def gz(path):
    with open(path, 'rb') as f, gzip.open(path + '.gz', 'wb') as g: shutil.copyfileobj(f, g)

def patch(path, fmt, offset, *values):
    b = bytearray(open(path, 'rb').read()); struct.pack_into(fmt, b, offset, *values); open(path, 'wb').write(b)

u8 = np.arange(120, dtype=np.uint8).reshape(4,5,6)
aq = affine(rot('z', 30), (1, 2, 3), (5, -6, 7))
as_ = affine(np.eye(3), (1.5, 2.5, 3.5), (10, 20, 30))
img = nib.Nifti1Image(u8, None); img.set_qform(aq, code=1); img.set_sform(as_, code=2)
nib.save(img, d + '/both_forms.nii'); gz(d + '/both_forms.nii')
shutil.copy(d + '/both_forms.nii', d + '/nan_slope.nii'); patch(d + '/nan_slope.nii', '<ff', 112, float('nan'), float('nan'))
shutil.copy(d + '/both_forms.nii', d + '/zero_slope.nii'); patch(d + '/zero_slope.nii', '<ff', 112, 0.0, 5.0)
img = nib.Nifti1Image(u8, None); img.set_qform(aq, code=2); img.set_sform(as_, code=1)
nib.save(img, d + '/qform_code_higher.nii.gz')

i16 = (np.arange(24, dtype=np.int16).reshape(4,3,2) - 7) * 100
aflip = affine(rot('x', 20) @ np.diag([1, 1, -1]), (0.8, 0.9, 2.5), (-5, 7, 11))
img = nib.Nifti1Image(i16, None); img.set_qform(aflip, code=1); img.set_sform(None, code=0)
nib.save(img, d + '/qform_only_qfac.nii')

raw = rng.integers(-300, 300, size=(6,5,4)).astype(np.int16)
nib.save(nib.Nifti1Image(raw, np.diag([1.2, 1.2, 3, 1])), d + '/scaled.nii')
patch(d + '/scaled.nii', '<ff', 112, 0.5, -10.0); gz(d + '/scaled.nii')

f32 = rng.standard_normal((5,4,3)).astype(np.float32)
a2 = affine(rot('y', -15) @ rot('z', 40), (0.7, 0.75, 1.9), (-100.5, 12.25, 3))
nib.save(nib.Nifti2Image(f32, a2), d + '/nifti2.nii.gz')

frames = rng.standard_normal((7,6,5,2)).astype(np.float32)
nib.save(nib.Nifti1Image(frames, np.diag([1.4, 1.4, 8, 1])), d + '/frames.nii.gz')

h = nib.Nifti1Header(endianness='>'); h.set_data_dtype(np.int16)
img = nib.Nifti1Image(i16.astype('>i2'), affine(rot('z', -90), (1, 1, 1), (1, 2, 3)), header=h)
nib.save(img, d + '/bigendian.nii')

img = nib.Nifti1Image(u8, None); img.header.set_zooms((2, 3, 4)); img.set_qform(None, code=0); img.set_sform(None, code=0)
nib.save(img, d + '/pixdim_only.nii')

out = {}
for name in ['both_forms.nii', 'both_forms.nii.gz', 'nan_slope.nii', 'zero_slope.nii', 'qform_code_higher.nii.gz', 'qform_only_qfac.nii', 'scaled.nii.gz',
             'nifti2.nii.gz', 'frames.nii.gz', 'bigendian.nii', 'pixdim_only.nii']:
    img = nib.load(d + '/' + name)
    out[name] = dict(shape=list(img.shape), dtype=str(img.get_data_dtype().newbyteorder('=')),
                     affine=img.affine[:3].ravel().tolist(), zooms=[float(z) for z in img.header.get_zooms()],
                     data=img.get_fdata().ravel(order='F').tolist(), pixdim0=float(img.header['pixdim'][0]),
                     qform_code=int(img.header['qform_code']), sform_code=int(img.header['sform_code']))
print(json.dumps(out))
`;

let dir: string;
let remove: () => void;
let expected: Record<string, Expected>;

beforeAll(() => {
  requirePython();
  ({ dir, remove } = makeTempDir('nifti-read'));
  expected = runPython<Record<string, Expected>>(FIXTURES, [dir]);
});
afterAll(() => remove?.());

function fixture(name: string): { file: string; want: Expected } {
  const want = expected[name];
  if (want === undefined) throw new Error(`no fixture ${name}`);
  return { file: join(dir, name), want };
}

function expectAffine(volume: Pick<Volume, 'spacing' | 'origin' | 'direction'>, want: number[], tol = 1e-5) {
  const got = rasAffineFromGeometry(volume);
  expect(got).toHaveLength(want.length);
  got.forEach((v, i) => expect(v).toBeCloseTo(want[i] as number, -Math.log10(tol)));
}

describe('NIfTI reading', () => {
  it('reads header fields and data as nibabel does, using the sform when both forms are set', async () => {
    const { file, want } = fixture('both_forms.nii.gz');
    const volume = await readVolume(file);
    const header = await readVolumeHeader(file);
    expect(header.format).toBe('nifti1');
    expect(header.nifti?.geometrySource).toBe('sform');
    expect([header.nifti?.qformCode, header.nifti?.sformCode]).toEqual([1, 2]);
    expect(volume.shape).toEqual(want.shape);
    expect(volume.dataType).toBe('uint8');
    expect(volume.data).toBeInstanceOf(Uint8Array);
    expect(Array.from(volume.data)).toEqual(want.data);
    expect(volume.spacing).toEqual([1.5, 2.5, 3.5]);
    // LPS: the RAS offset (10, 20, 30) becomes (-10, -20, 30).
    expect(volume.origin).toEqual([-10, -20, 30]);
    expectAffine(volume, want.affine);
  });

  it('reads plain .nii and .nii.gz of the same image identically', async () => {
    const plain = await readVolume(fixture('both_forms.nii').file);
    const gzipped = await readVolume(fixture('both_forms.nii.gz').file);
    expect(gzipped).toEqual(plain);
  });

  it('prefers the sform even when the qform has the higher code (nifti-reader-js alone would not)', async () => {
    const { file, want } = fixture('qform_code_higher.nii.gz');
    const header = await readVolumeHeader(file);
    expect([header.nifti?.qformCode, header.nifti?.sformCode]).toEqual([2, 1]);
    expect(header.nifti?.geometrySource).toBe('sform');
    expectAffine(header, want.affine);
  });

  it('uses the qform when there is no sform, with qfac -1 read from pixdim[0]', async () => {
    const { file, want } = fixture('qform_only_qfac.nii');
    expect(want.pixdim0).toBe(-1);
    expect(want.sform_code).toBe(0);
    const volume = await readVolume(file);
    const header = await readVolumeHeader(file);
    expect(header.nifti?.geometrySource).toBe('qform');
    expect(header.nifti?.pixdim[0]).toBe(-1);
    expect(volume.spacing.map((s) => Math.fround(s))).toEqual([0.8, 0.9, 2.5].map(Math.fround));
    expectAffine(volume, want.affine, 1e-4);
    // A flipped third axis makes the RAS grid left-handed; LPS flips two axes, so the sign carries over.
    expect(det3(volume.direction)).toBeLessThan(0);
    expect(Array.from(volume.data)).toEqual(want.data);
  });

  it('applies scl_slope and scl_inter, returning float32 while reporting the stored int16 type', async () => {
    const { file, want } = fixture('scaled.nii.gz');
    const volume = await readVolume(file);
    expect(volume.dataType).toBe('int16');
    expect(volume.data).toBeInstanceOf(Float32Array);
    expect(Array.from(volume.data)).toEqual(want.data.map(Math.fround));
    const header = await readVolumeHeader(file);
    expect(header.scaled).toBe(true);
    expect([header.nifti?.sclSlope, header.nifti?.sclInter]).toEqual([0.5, -10]);
  });

  it('treats slope 1 with intercept 0, a NaN slope and a zero slope as no scaling', async () => {
    for (const name of ['both_forms.nii', 'nan_slope.nii', 'zero_slope.nii']) {
      const { file, want } = fixture(name);
      const volume = await readVolume(file);
      expect(volume.data).toBeInstanceOf(Uint8Array);
      expect(Array.from(volume.data)).toEqual(want.data);
      expect((await readVolumeHeader(file)).scaled).toBe(false);
    }
    expect((await readVolumeHeader(fixture('nan_slope.nii').file)).nifti?.sclSlope).toBe(0);
  });

  it('reads NIfTI-2', async () => {
    const { file, want } = fixture('nifti2.nii.gz');
    const volume = await readVolume(file);
    const header = await readVolumeHeader(file);
    expect(header.format).toBe('nifti2');
    expect(volume.shape).toEqual(want.shape);
    expect(volume.data).toBeInstanceOf(Float32Array);
    expect(Array.from(volume.data)).toEqual(want.data);
    expectAffine(volume, want.affine);
  });

  it('reads big-endian files', async () => {
    const { file, want } = fixture('bigendian.nii');
    const header = await readVolumeHeader(file);
    expect(header.nifti?.littleEndian).toBe(false);
    const volume = await readVolume(file);
    expect(volume.data).toBeInstanceOf(Int16Array);
    expect(Array.from(volume.data)).toEqual(want.data);
    expectAffine(volume, want.affine);
  });

  it('falls back to pixdim scaling alone when neither form is set', async () => {
    const volume = await readVolume(fixture('pixdim_only.nii').file);
    expect(volume.spacing).toEqual([2, 3, 4]);
    expect(volume.origin).toEqual([0, 0, 0]);
    expect(volume.direction).toEqual([-1, 0, 0, 0, -1, 0, 0, 0, 1]);
  });

  it('reads a 4D file frame by frame from one opening, and refuses it as a single 3D volume', async () => {
    const { file, want } = fixture('frames.nii.gz');
    expect(await countFrames(file)).toBe(2);
    const opened = await openVolume(file);
    expect(opened.header.frames).toBe(2);
    expect(opened.header.shape).toEqual([7, 6, 5]);
    const n = 7 * 6 * 5;
    for (const t of [1, 0]) {
      const frame = opened.readFrame(t);
      expect(frame.shape).toEqual([7, 6, 5]);
      expect(Array.from(frame.data)).toEqual(want.data.slice(t * n, (t + 1) * n));
    }
    expect(Array.from((await readFrame(file, 1)).data)).toEqual(want.data.slice(n));
    const wholeError = await rejection(readVolume(file));
    expect(wholeError.code).toBe('unsupported_format');
    expect(wholeError.message).toContain('frames.nii.gz');
    expect(wholeError.message).toContain('2 frames');
    const frameError = await rejection(readFrame(file, 2));
    expect(frameError.code).toBe('bad_request');
    expect(frameError.message).toContain('frames 0 to 1');
  });

  it('reads the same header without decoding voxels as when opening the whole file', async () => {
    expect(Object.keys(expected).length).toBeGreaterThan(0);
    for (const name of Object.keys(expected)) {
      const file = join(dir, name);
      expect(await readVolumeHeader(file)).toEqual((await openVolume(file)).header);
    }
  });
});
