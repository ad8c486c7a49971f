import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CaseEntry } from '../../../core/datasets/case-table.ts';
import { computePlan } from '../../../core/datasets/pipeline/plan.ts';
import {
  prepareCase,
  preprocessImage,
  restoreLabelMap,
  type CanonicalInput,
} from '../../../core/datasets/pipeline/preprocess.ts';
import { cacheFolder, loadPreparedCases } from '../../../core/datasets/pipeline/cache.ts';
import { gridSize, type Shape3 } from '../../../core/datasets/pipeline/grid.ts';

const labels = { 0: 'background', 1: 'Anterior', 2: 'Posterior' };

/** A volume (i fastest) with a box of label 1 and one of label 5 -> class 2 after mapping {0,1,5}. */
function synthetic(shape: Shape3, spacing: Shape3): { image: CanonicalInput; label: CanonicalInput } {
  const n = shape[0] * shape[1] * shape[2];
  const image = new Int16Array(n);
  const label = new Uint8Array(n);
  for (let k = 0; k < shape[2]; k++)
    for (let j = 0; j < shape[1]; j++)
      for (let i = 0; i < shape[0]; i++) {
        const v = i + shape[0] * (j + shape[1] * k);
        image[v] = 100 + i * 3 + j - k;
        if (i > 2 && i < 7 && j > 3 && j < 9 && k > 1 && k < 5) label[v] = 1;
        if (i > 8 && i < 11 && j > 1 && j < 4) label[v] = 5;
      }
  return { image: { data: image, shape, spacing }, label: { data: label, shape, spacing } };
}

function oneHot(classes: Uint8Array, k: number): Float32Array {
  const out = new Float32Array(classes.length * k);
  for (let i = 0; i < classes.length; i++) out[(classes[i] as number) * classes.length + i] = 1;
  return out;
}

describe('preprocessing a case', () => {
  it('maps label values to classes, z-scores the image and restores the label map exactly', () => {
    const shape: Shape3 = [12, 10, 6];
    const { image, label } = synthetic(shape, [1, 1, 1]);
    const plan = computePlan([{ shape, spacing: [1, 1, 1] }], {
      dataset: 'S',
      labels: { 0: 'bg', 1: 'a', 5: 'b' },
    });
    const prepared = prepareCase('c1', image, label, plan, '/x/label.nii.gz');
    expect(prepared.image.shape).toEqual([12, 10, 6]);
    expect(new Set(prepared.label.data)).toEqual(new Set([0, 1, 2]));
    expect(prepared.foreground[1]!.length).toBe(4 * 5 * 3);
    const mean = prepared.image.data.reduce((s, v) => s + v, 0) / prepared.image.data.length;
    expect(mean).toBeCloseTo(0, 5);
    const { record } = preprocessImage(image, plan);
    const restored = restoreLabelMap(oneHot(prepared.label.data, 3), record, plan);
    expect(restored.shape).toEqual(shape);
    expect(Array.from(restored.data)).toEqual(Array.from(label.data));
  });

  it('resamples anisotropic cases in-plane and maps predictions back onto the source grid', () => {
    const shape: Shape3 = [12, 10, 6];
    const { image, label } = synthetic(shape, [2, 2, 8]);
    const plan = computePlan(
      [
        { shape, spacing: [1, 1, 8] },
        { shape, spacing: [1, 1, 8] },
        { shape, spacing: [2, 2, 8] },
      ],
      { dataset: 'S', labels: { 0: 'bg', 1: 'a', 5: 'b' } },
    );
    expect(plan.targetSpacing).toEqual([1, 1, null]);
    const prepared = prepareCase('c1', image, label, plan, '/x/label.nii.gz');
    expect(prepared.image.shape).toEqual([24, 20, 6]);
    expect(new Set(prepared.label.data)).toEqual(new Set([0, 1, 2]));
    const { record } = preprocessImage(image, plan);
    const restored = restoreLabelMap(oneHot(prepared.label.data, 3), record, plan);
    expect(restored.shape).toEqual(shape);
    let same = 0;
    for (let i = 0; i < restored.data.length; i++) if (restored.data[i] === label.data[i]) same++;
    // Doubling by nearest neighbour then halving by linear averaging recovers every voxel.
    expect(same).toBe(restored.data.length);
  });

  it('rejects a label value the dataset does not declare, naming the file', () => {
    const shape: Shape3 = [12, 10, 6];
    const { image, label } = synthetic(shape, [1, 1, 1]);
    const plan = computePlan([{ shape, spacing: [1, 1, 1] }], { dataset: 'S', labels });
    expect(() => prepareCase('c1', image, label, plan, '/data/labelsTr/c1.nii.gz')).toThrow(
      /\/data\/labelsTr\/c1.nii.gz holds values 5/,
    );
  });

  it('rejects a label map on another grid than its image', () => {
    const { image } = synthetic([12, 10, 6], [1, 1, 1]);
    const { label } = synthetic([12, 10, 5], [1, 1, 1]);
    const plan = computePlan([{ shape: [12, 10, 6], spacing: [1, 1, 1] }], {
      dataset: 'S',
      labels: { 0: 'b', 1: 'a', 5: 'c' },
    });
    expect(() => prepareCase('c1', image, label, plan, '/d/l.nii.gz')).toThrow(
      /12 x 10 x 5 voxels but its image has 12 x 10 x 6/,
    );
  });
});

describe('preprocessed cache', () => {
  let dir = '';
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'emonas-cache-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('prepares each case once and reads it back identically until a source changes', async () => {
    const shape: Shape3 = [12, 10, 6];
    const plan = computePlan([{ shape, spacing: [1, 1, 1] }], {
      dataset: 'S',
      labels: { 0: 'b', 1: 'a', 5: 'c' },
    });
    const entries: CaseEntry[] = [];
    for (const id of ['a', 'test/b']) {
      const image = join(dir, `${id.replace('/', '_')}.nii.gz`);
      const label = join(dir, `${id.replace('/', '_')}_gt.nii.gz`);
      await writeFile(image, 'x');
      await writeFile(label, 'y');
      entries.push({ id, patient: id, subset: 'train', image, label, ok: true, problems: [] });
    }
    let loads = 0;
    const load = async () => {
      loads++;
      return synthetic(shape, [1, 1, 1]);
    };
    const folder = cacheFolder(join(dir, 'cache'), dir, plan);
    const first = await loadPreparedCases(entries, plan, folder, load);
    expect(loads).toBe(2);
    const progress: number[] = [];
    const second = await loadPreparedCases(entries, plan, folder, load, (_done, _total, cached) =>
      progress.push(cached),
    );
    expect(loads).toBe(2);
    expect(progress).toEqual([1, 2]);
    expect(Array.from(second[1]!.image.data)).toEqual(Array.from(first[1]!.image.data));
    expect(Array.from(second[1]!.label.data)).toEqual(Array.from(first[1]!.label.data));
    expect(second[1]!.foreground[2]!.length).toBe(first[1]!.foreground[2]!.length);
    expect(gridSize(second[0]!.image.shape)).toBe(720);
    const later = new Date(Date.now() + 5000);
    await utimes(entries[0]!.label!, later, later);
    await loadPreparedCases(entries, plan, folder, load);
    expect(loads).toBe(3);
  });
});
