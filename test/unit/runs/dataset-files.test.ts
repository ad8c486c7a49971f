// The dataset manifest run.json records (core/runs/dataset-files.ts): sizes and SHA-256 of each case's
// files, a MetaImage header's voxel file included, and a stated partial hash above the size limit.
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatMetaImageHeader } from '../../../core/io/metaimage-header.ts';
import { datasetFiles } from '../../../core/runs/dataset-files.ts';
import { tempRoot } from './fixtures.ts';

const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

describe('the dataset files of a run', () => {
  const root = tempRoot();
  mkdirSync(join(root, 'imagesTr'));
  const image = join(root, 'imagesTr', 'case_001.nii.gz');
  const label = join(root, 'labelsTr', 'case_001.nii.gz');
  mkdirSync(join(root, 'labelsTr'));
  writeFileSync(image, Buffer.from('image bytes of case one'));
  writeFileSync(label, Buffer.alloc(0));
  const header = join(root, 'Case00.mhd');
  const voxels = new Uint8Array(8).map((_, i) => i * 7);
  writeFileSync(
    header,
    formatMetaImageHeader({
      shape: [2, 2, 2],
      spacing: [1, 1, 1],
      origin: [0, 0, 0],
      direction: [1, 0, 0, 0, 1, 0, 0, 0, 1],
      dataType: 'uint8',
      compressedSize: undefined,
      dataFile: 'Case00.raw',
    }),
  );
  writeFileSync(join(root, 'Case00.raw'), voxels);

  it('records each file by its path in the dataset, its size and its hash', async () => {
    const files = await datasetFiles(root, [
      { id: 'case_001', files: [image, label] },
      { id: 'Case00', files: [header] },
    ]);
    expect(files.map((c) => c.id)).toEqual(['case_001', 'Case00']);
    expect(files[0]!.files).toEqual([
      { path: join('imagesTr', 'case_001.nii.gz'), bytes: 23, sha256: sha256(readFileSync(image)) },
      { path: join('labelsTr', 'case_001.nii.gz'), bytes: 0, sha256: sha256(new Uint8Array(0)) },
    ]);
    // The header names its voxel file, which is what changes when the image does.
    expect(files[1]!.files.map((f) => f.path)).toEqual(['Case00.mhd', 'Case00.raw']);
    expect(files[1]!.files[1]).toEqual({ path: 'Case00.raw', bytes: 8, sha256: sha256(voxels) });
  });

  it('hashes only the first bytes of a file above the limit and says so', async () => {
    const [entry] = await datasetFiles(root, [{ id: 'case_001', files: [image] }], 10);
    const file = entry!.files[0]!;
    expect(file.bytes).toBe(23);
    expect(file.hashedBytes).toBe(10);
    expect(file.sha256).toBe(sha256(readFileSync(image).subarray(0, 10)));
  });

  it('keeps the order of many cases, hashed a few at a time, and hashes a file read in several pieces', async () => {
    const many = Array.from({ length: 9 }, (_, i) => {
      const file = join(root, 'imagesTr', `many_${i}.nii.gz`);
      // One file spans several 1 MiB reads and ends in a partial one; the others are small.
      writeFileSync(file, Buffer.alloc(i === 4 ? 2.5 * 1024 * 1024 + 3 : 100 + i, i + 1));
      return { id: `many_${i}`, files: [file] };
    });
    const big = readFileSync(many[4]!.files[0]!);
    expect(big.length).toBeGreaterThan(2 * 1024 * 1024);
    const files = await datasetFiles(root, many);
    expect(files.map((c) => c.id)).toEqual(many.map((c) => c.id));
    files.forEach((c, i) => expect(c.files[0]!.sha256).toBe(sha256(readFileSync(many[i]!.files[0]!))));
    const limited = await datasetFiles(root, [many[4]!], 1.5 * 1024 * 1024 + 1);
    expect(limited[0]!.files[0]!.sha256).toBe(sha256(big.subarray(0, 1.5 * 1024 * 1024 + 1)));
    expect(limited[0]!.files[0]!.hashedBytes).toBe(1.5 * 1024 * 1024 + 1);

    const missing = join(root, 'imagesTr', 'many_missing.nii.gz');
    const withGap = [...many.slice(0, 6), { id: 'gap', files: [missing] }, ...many.slice(6)];
    await expect(datasetFiles(root, withGap)).rejects.toThrow(`${missing} could not be read`);
  });

  it('names a file it cannot read', async () => {
    const missing = join(root, 'imagesTr', 'case_002.nii.gz');
    await expect(datasetFiles(root, [{ id: 'case_002', files: [missing] }])).rejects.toThrow(
      `${missing} could not be read to record it in run.json`,
    );
  });
});
