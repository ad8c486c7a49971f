import { realHippocampusFolder } from '../../fixtures/hippocampus.ts';
import { beforeAll, describe, expect, it } from 'vitest';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { rasAffineFromGeometry } from '../../../core/io/geometry.ts';
import { fromCanonical, toCanonical } from '../../../core/io/orientation.ts';
import { readVolume, readVolumeHeader, writeVolume } from '../../../core/io/volume-files.ts';
import { makeTempDir, requirePython, runPython } from './helpers.ts';

const ROOT = realHippocampusFolder();

interface Seen {
  shape: number[];
  zooms: number[];
  dtype: string;
  affine: number[];
  data?: number[];
}

const DETAILED = [
  'imagesTr/hippocampus_001.nii.gz',
  'labelsTr/hippocampus_001.nii.gz',
  'imagesTr/hippocampus_003.nii.gz',
  'labelsTr/hippocampus_003.nii.gz',
  'labelsTr/hippocampus_243.nii.gz',
];

let all: string[];
let nibabel: Record<string, Seen>;

beforeAll(() => {
  if (!existsSync(ROOT)) {
    throw new Error(`The hippocampus dataset is not at ${ROOT}; set EMONAS_HIPPOCAMPUS to its folder.`);
  }
  requirePython();
  all = ['imagesTr', 'labelsTr'].flatMap((sub) =>
    readdirSync(join(ROOT, sub))
      .filter((n) => n.endsWith('.nii.gz') && !n.startsWith('.'))
      .map((n) => `${sub}/${n}`),
  );
  nibabel = runPython<Record<string, Seen>>(
    String.raw`
import sys, json, numpy as np, nibabel as nib
root, detailed = sys.argv[1], set(sys.argv[2].split(','))
out = {}
for rel in sys.argv[3:]:
    img = nib.load(root + '/' + rel)
    seen = dict(shape=list(img.shape), zooms=[float(z) for z in img.header.get_zooms()],
                dtype=str(img.get_data_dtype()), affine=img.affine[:3].ravel().tolist())
    if rel in detailed:
        seen['data'] = np.asanyarray(img.dataobj).ravel(order='F').tolist()
    out[rel] = seen
print(json.dumps(out))
`,
    [ROOT, DETAILED.join(','), ...all],
  );
});

describe('the real Task04_Hippocampus files', () => {
  it('decode to the same shape, type, geometry and voxels as nibabel reads', async () => {
    for (const rel of DETAILED) {
      const want = nibabel[rel]!;
      const volume = await readVolume(join(ROOT, rel));
      expect(volume.shape, rel).toEqual(want.shape);
      expect(volume.spacing, rel).toEqual([1, 1, 1]);
      expect(volume.dataType, rel).toBe(want.dtype);
      expect(rasAffineFromGeometry(volume), rel).toEqual(want.affine);
      expect(Array.from(volume.data), rel).toEqual(want.data);
    }
  });

  it('read the float32 label maps of cases 003 and 243 as whole numbers 0, 1 and 2', async () => {
    for (const id of ['003', '243']) {
      const label = await readVolume(join(ROOT, `labelsTr/hippocampus_${id}.nii.gz`));
      expect(label.dataType).toBe('float32');
      expect(new Set(label.data)).toEqual(new Set([0, 1, 2]));
    }
  });

  it('all have headers matching nibabel: 1 mm voxels, every axis under 64 voxels', async () => {
    expect(all.length).toBe(400);
    const headers = await Promise.all(all.map((rel) => readVolumeHeader(join(ROOT, rel))));
    headers.forEach((header, n) => {
      const want = nibabel[all[n]!]!;
      expect(header.shape, all[n]).toEqual(want.shape);
      expect(header.spacing, all[n]).toEqual(want.zooms);
      expect(header.spacing).toEqual([1, 1, 1]);
      expect(Math.max(...header.shape)).toBeLessThan(64);
    });
  });

  it('take a prediction made on the canonical grid back onto the scan, written exactly on top of it', async () => {
    const source = join(ROOT, 'imagesTr/hippocampus_003.nii.gz');
    const image = await readVolume(source);
    const { volume: canonical, transform } = toCanonical(image);
    const prediction = {
      ...canonical,
      data: Uint8Array.from(canonical.data, (v) => (v > 1000 ? 1 : 0)),
      dataType: 'uint8' as const,
    };
    const { dir, remove } = makeTempDir('hippocampus');
    try {
      const out = join(dir, 'hippocampus_003_prediction.nii.gz');
      await writeVolume(out, fromCanonical(prediction, transform), await readVolumeHeader(source));
      const a = gunzipSync(readFileSync(source));
      const b = gunzipSync(readFileSync(out));
      expect(b.subarray(40, 56)).toEqual(a.subarray(40, 56));
      expect(b.subarray(76, 92)).toEqual(a.subarray(76, 92));
      expect(b.subarray(252, 328)).toEqual(a.subarray(252, 328));
      expect(b[123]).toBe(a[123]);
      const back = await readVolume(out);
      expect(Array.from(back.data)).toEqual(Array.from(image.data, (v) => (v > 1000 ? 1 : 0)));
    } finally {
      remove();
    }
  });

  it('all decode, an image and its label always on the same grid', async () => {
    const images = all.filter((rel) => rel.startsWith('imagesTr/'));
    expect(images).toHaveLength(200);
    for (const rel of images) {
      const [image, label] = await Promise.all([
        readVolume(join(ROOT, rel)),
        readVolume(join(ROOT, rel.replace('imagesTr/', 'labelsTr/'))),
      ]);
      expect(label.shape, rel).toEqual(image.shape);
      expect(label.origin, rel).toEqual(image.origin);
      expect(
        label.data.every((v) => v === 0 || v === 1 || v === 2),
        rel,
      ).toBe(true);
    }
  });
});
