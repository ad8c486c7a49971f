import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CaseEntry } from '../../../core/datasets/case-table.ts';
import { inspectDataset, loadCase, type DatasetReport } from '../../../core/service/datasets.ts';
import { acdcFixtureLvVoxels, writeAcdcTree, type AcdcTree } from '../../fixtures/acdc-tree.ts';
import { writeMsdTree } from '../../fixtures/msd-tree.ts';
import {
  promise12FixtureImage,
  promise12MaskVoxels,
  writePromise12Tree,
  type Promise12Tree,
} from '../../fixtures/promise12-tree.ts';
import { boxVoxels } from '../../fixtures/synthetic-volumes.ts';
import { tempDirs } from '../../fixtures/temp-dir.ts';

const temp = tempDirs('import');
afterAll(temp.cleanup);

function caseById(report: DatasetReport, id: string): CaseEntry {
  const entry = report.cases.find((c) => c.id === id);
  if (!entry) throw new Error(`no case ${id}`);
  return entry;
}

function count(data: ArrayLike<number>, value: number): number {
  let n = 0;
  for (let i = 0; i < data.length; i++) if (data[i] === value) n++;
  return n;
}

describe('Decathlon fixture', () => {
  it('loads label maps as Uint8Array with the painted boxes', async () => {
    const tree = await writeMsdTree(temp.make());
    const report = await inspectDataset(tree.root);
    expect(report.kind).toBe('msd');
    const { image, label } = await loadCase(caseById(report, 'fixture_004'));
    expect(image.data[0]).toBe(4000);
    expect(label?.data).toBeInstanceOf(Uint8Array);
    const [anterior, posterior] = tree.boxes['fixture_004'] ?? [];
    expect(count(label?.data ?? [], 1)).toBe(anterior ? boxVoxels(anterior) : -1);
    expect(count(label?.data ?? [], 2)).toBe(posterior ? boxVoxels(posterior) : -1);
    expect((await loadCase(caseById(report, 'test/fixture_002'))).label).toBeUndefined();
  });
});

describe('ACDC fixture', () => {
  let tree: AcdcTree;
  let report: DatasetReport;
  beforeAll(async () => {
    tree = await writeAcdcTree(temp.make());
    report = await inspectDataset(tree.root);
  });

  it('imports every phase with the anisotropic geometry of its frame', () => {
    expect(report.kind).toBe('acdc');
    expect(report.summary).toMatchObject({ usable: 4, test: 2, broken: 0 });
    expect(report.summary.spacing?.max).toEqual([1.5625, 1.5625, 10]);
    expect(report.problems).toEqual([]);
  });

  it('gives the ED case the Info.cfg ED frame and its label map, not the first file', async () => {
    const ed = await loadCase(caseById(report, 'patient001_ED'));
    const es = await loadCase(caseById(report, 'patient001_ES'));
    expect(ed.image.data[0]).toBe(8000);
    expect(es.image.data[0]).toBe(3000);
    expect(count(ed.label?.data ?? [], 3)).toBe(acdcFixtureLvVoxels('ED'));
    expect(count(es.label?.data ?? [], 3)).toBe(acdcFixtureLvVoxels('ES'));
    expect(acdcFixtureLvVoxels('ED')).toBeGreaterThan(acdcFixtureLvVoxels('ES'));
  });

  it('keeps the cine on the case, which is 4D and never read as a training image', async () => {
    const ed = caseById(report, 'patient002_ED');
    expect(ed.cine).toBe(join(tree.training, 'patient002', 'patient002_4d.nii.gz'));
    await expect(loadCase({ ...ed, image: ed.cine ?? '' })).rejects.toThrow(
      /patient002_4d\.nii\.gz is a 4D series of 9 frames/,
    );
  });

  it('reports a training phase whose _gt file is missing', async () => {
    const t = await writeAcdcTree(temp.make());
    const gt = join(t.training, 'patient002', 'patient002_frame02_gt.nii.gz');
    await rm(gt);
    const r = await inspectDataset(t.root);
    expect(caseById(r, 'patient002_ED').problems).toEqual([
      {
        message:
          'database/training/patient002/patient002_frame02_gt.nii.gz, the label map of the ED frame, is missing.',
        file: gt,
      },
    ]);
    expect(r.summary.usable).toBe(3);
  });
});

describe('PROMISE12 fixture', () => {
  let tree: Promise12Tree;
  let report: DatasetReport;
  beforeAll(async () => {
    tree = await writePromise12Tree(temp.make());
    report = await inspectDataset(tree.root);
  });

  it('imports the training parts and the colliding test ids apart', () => {
    expect(report.kind).toBe('promise12');
    expect(report.summary).toMatchObject({ usable: 4, test: 2, broken: 0 });
    expect(caseById(report, 'Case00').spacing).toEqual(tree.spacing);
    expect(caseById(report, 'test/Case00').spacing).toEqual(tree.testSpacing);
  });

  it('reads the big-endian and the compressed case to the same voxels', async () => {
    for (const [id, n] of [
      [tree.bigEndianCase, 2],
      [tree.compressedCase, 3],
    ] as const) {
      const { image, label } = await loadCase(caseById(report, id));
      expect(image.dataType).toBe('int16');
      expect([...image.data]).toEqual([...promise12FixtureImage(n)]);
      expect(label?.data).toBeInstanceOf(Uint8Array);
      expect(count(label?.data ?? [], 1)).toBe(promise12MaskVoxels(n));
    }
  });

  it('reports a header whose .raw data file is missing, naming it', async () => {
    const t = await writePromise12Tree(temp.make());
    await rm(join(t.root, 'TrainingData_Part1', 'Case01.raw'));
    const r = await inspectDataset(t.root);
    const problems = caseById(r, 'Case01').problems;
    expect(problems).toHaveLength(1);
    expect(problems[0]?.message).toContain('Case01.raw');
    expect(problems[0]?.file).toBe(join(t.root, 'TrainingData_Part1', 'Case01.mhd'));
    expect(r.summary.usable).toBe(3);
  });
});
