import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readDatasetLayout } from '../../../core/datasets/detect.ts';
import { writeAcdcPatient, writeAcdcTree, ACDC_FIXTURE_PATIENTS } from '../../fixtures/acdc-tree.ts';
import { writeMsdDatasetJson, writeMsdTree } from '../../fixtures/msd-tree.ts';
import {
  writePromise12MetaImage,
  writePromise12Tree,
  promise12FixtureImage,
} from '../../fixtures/promise12-tree.ts';
import { tempDirs } from '../../fixtures/temp-dir.ts';
import { readFileSync } from 'node:fs';

const temp = tempDirs('layout');
afterAll(temp.cleanup);

describe('detection', () => {
  it('says a missing folder does not exist', async () => {
    await expect(readDatasetLayout('/no/such/folder')).rejects.toMatchObject({
      code: 'not_found',
      message: 'The folder /no/such/folder does not exist.',
    });
  });

  it('names what it looked for when a folder is no dataset', async () => {
    const dir = temp.make();
    await writeFile(join(dir, 'notes.txt'), 'hello');
    const err = await readDatasetLayout(dir).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'invalid_dataset', file: dir });
    expect((err as Error).message).toContain(`${dir} is not a dataset folder`);
    expect((err as Error).message).toMatch(/dataset\.json.*Info\.cfg.*TrainingData_Part1/);
  });

  it('refuses a file given as the folder', async () => {
    const dir = temp.make();
    await writeFile(join(dir, 'x.nii.gz'), 'x');
    await expect(readDatasetLayout(join(dir, 'x.nii.gz'))).rejects.toThrow(
      /x\.nii\.gz is a file, not a dataset folder/,
    );
  });
});

describe('Decathlon layout', () => {
  it('lists training and test cases from dataset.json and ignores macOS junk', async () => {
    const tree = await writeMsdTree(temp.make());
    const m = await readDatasetLayout(tree.root);
    expect(m.kind).toBe('msd');
    expect(m.name).toBe('Fixture');
    expect(m.labels).toEqual({ 0: 'background', 1: 'Anterior', 2: 'Posterior' });
    expect(m.cases.map((c) => c.id)).toEqual([...tree.training, ...tree.test]);
    expect(m.cases.filter((c) => c.subset === 'test').map((c) => c.label)).toEqual([undefined]);
    expect(m.cases[0]?.image).toBe(join(tree.root, 'imagesTr', 'fixture_001.nii.gz'));
    expect(m.problems).toEqual([]);
    expect(m.cases.every((c) => c.problems.length === 0)).toBe(true);
  });

  it('reports a listed file that is absent, and a present file that is not listed, naming each', async () => {
    const tree = await writeMsdTree(temp.make());
    await rm(join(tree.root, 'labelsTr', 'fixture_003.nii.gz'));
    await writeFile(join(tree.root, 'imagesTr', 'fixture_099.nii.gz'), 'x');
    const m = await readDatasetLayout(tree.root);
    const c = m.cases.find((e) => e.id === 'fixture_003');
    expect(c?.problems).toEqual([
      {
        message: expect.stringContaining(
          'labelsTr/fixture_003.nii.gz is listed in dataset.json but is not in the folder',
        ),
        file: join(tree.root, 'labelsTr', 'fixture_003.nii.gz'),
      },
    ]);
    expect(m.problems).toEqual([
      {
        message: expect.stringContaining(
          'imagesTr/fixture_099.nii.gz is present but not listed in dataset.json',
        ),
        file: join(tree.root, 'imagesTr', 'fixture_099.nii.gz'),
      },
    ]);
  });

  it('reports numTraining that disagrees with the list without failing', async () => {
    const tree = await writeMsdTree(temp.make());
    const json = JSON.parse(readFileSync(join(tree.root, 'dataset.json'), 'utf8'));
    json.numTraining = 260;
    await writeMsdDatasetJson(tree.root, json);
    const m = await readDatasetLayout(tree.root);
    expect(m.cases).toHaveLength(4);
    expect(m.problems.map((p) => p.message)).toEqual([
      'dataset.json says numTraining is 260 but lists 3 training cases; the list is used.',
    ]);
  });

  it('pairs images and labels by name when dataset.json has no training list', async () => {
    const tree = await writeMsdTree(temp.make());
    await writeMsdDatasetJson(tree.root, { name: 'x', labels: { '0': 'background', '1': 'a', '2': 'b' } });
    await rm(join(tree.root, 'imagesTr', 'fixture_004.nii.gz'));
    const m = await readDatasetLayout(tree.root);
    expect(m.cases.map((c) => c.id).sort()).toEqual(['fixture_001', 'fixture_003', 'fixture_004']);
    const orphan = m.cases.find((c) => c.id === 'fixture_004');
    expect(orphan?.problems[0]?.message).toContain(
      'labelsTr/fixture_004.nii.gz has no image: imagesTr/fixture_004.nii.gz is missing',
    );
  });

  it('stops with a sentence naming dataset.json when it is not JSON', async () => {
    const tree = await writeMsdTree(temp.make());
    await writeFile(join(tree.root, 'dataset.json'), '{ "name": ');
    await expect(readDatasetLayout(tree.root)).rejects.toThrow(/dataset\.json is not valid JSON/);
  });
});

describe('ACDC layout', () => {
  it('takes ED and ES from Info.cfg, not from file order, and keeps cine, info and patient', async () => {
    const tree = await writeAcdcTree(temp.make());
    const m = await readDatasetLayout(tree.root);
    expect(m.kind).toBe('acdc');
    expect(m.labels).toEqual({ 0: 'background', 1: 'RV', 2: 'Myo', 3: 'LV' });
    expect(m.cases.map((c) => c.id)).toEqual([
      'patient001_ED',
      'patient001_ES',
      'patient002_ED',
      'patient002_ES',
      'test/patient101_ED',
      'test/patient101_ES',
    ]);
    const ed = m.cases[0];
    expect(ed?.image).toBe(join(tree.training, 'patient001', 'patient001_frame08.nii.gz'));
    expect(ed?.label).toBe(join(tree.training, 'patient001', 'patient001_frame08_gt.nii.gz'));
    expect(m.cases[1]?.image).toBe(join(tree.training, 'patient001', 'patient001_frame03.nii.gz'));
    expect(ed?.cine).toBe(join(tree.training, 'patient001', 'patient001_4d.nii.gz'));
    expect(ed?.info?.['Group']).toBe('DCM');
    expect(m.cases.map((c) => c.patient)).toEqual([
      'patient001',
      'patient001',
      'patient002',
      'patient002',
      'patient101',
      'patient101',
    ]);
    expect(m.cases.map((c) => c.subset)).toEqual(['train', 'train', 'train', 'train', 'test', 'test']);
    expect(m.cases[4]?.label).toBe(join(tree.testing, 'patient101', 'patient101_frame05_gt.nii.gz'));
    expect(m.problems).toEqual([]);
  });

  it('reads the older top-level layout, a training folder, and a single patient folder', async () => {
    const tree = await writeAcdcTree(temp.make(), { layout: 'top-level' });
    expect((await readDatasetLayout(tree.root)).cases).toHaveLength(6);
    const training = await readDatasetLayout(tree.training);
    expect(training.kind).toBe('acdc');
    expect(training.cases.map((c) => c.id)).toEqual([
      'patient001_ED',
      'patient001_ES',
      'patient002_ED',
      'patient002_ES',
    ]);
    const testing = await readDatasetLayout(tree.testing);
    expect(testing.cases.map((c) => c.subset)).toEqual(['test', 'test']);
    const one = await readDatasetLayout(join(tree.training, 'patient002'));
    expect(one.cases.map((c) => c.id)).toEqual(['patient002_ED', 'patient002_ES']);
  });

  it('leaves out a patient whose Info.cfg is missing or lacks ED, naming the file', async () => {
    const root = temp.make();
    const [p1, p2] = ACDC_FIXTURE_PATIENTS;
    if (!p1 || !p2) throw new Error('fixture patients missing');
    await writeAcdcPatient(join(root, 'training', p1.name), p1);
    await writeAcdcPatient(join(root, 'training', p2.name), p2);
    await rm(join(root, 'training', p1.name, 'Info.cfg'));
    const m = await readDatasetLayout(root);
    expect(m.cases.map((c) => c.id)).toEqual(['patient002_ED', 'patient002_ES']);
    expect(m.problems).toEqual([
      {
        message: expect.stringContaining('training/patient001/Info.cfg is missing'),
        file: join(root, 'training', 'patient001', 'Info.cfg'),
      },
    ]);
    await writeFile(join(root, 'training', p1.name, 'Info.cfg'), 'ES: 3\nGroup: DCM\n');
    const again = await readDatasetLayout(root);
    expect(again.problems[0]?.message).toContain(
      'training/patient001/Info.cfg does not give the ED and ES frame numbers',
    );
  });

  it('marks a phase broken when its frame file is missing, naming the file', async () => {
    const tree = await writeAcdcTree(temp.make());
    const missing = join(tree.training, 'patient002', 'patient002_frame06.nii.gz');
    await rm(missing);
    const m = await readDatasetLayout(tree.root);
    const es = m.cases.find((c) => c.id === 'patient002_ES');
    expect(es?.problems).toEqual([
      {
        message: expect.stringContaining(
          'database/training/patient002/patient002_frame06.nii.gz is missing, but',
        ),
        file: missing,
      },
    ]);
    expect(m.cases.find((c) => c.id === 'patient002_ED')?.problems).toEqual([]);
  });
});

describe('PROMISE12 layout', () => {
  it('merges the three training parts and keeps TestData apart under test/ ids', async () => {
    const tree = await writePromise12Tree(temp.make());
    const m = await readDatasetLayout(tree.root);
    expect(m.kind).toBe('promise12');
    expect(m.labels).toEqual({ 0: 'background', 1: 'prostate' });
    expect(m.cases.map((c) => c.id)).toEqual([...tree.training, ...tree.test]);
    const test0 = m.cases.find((c) => c.id === 'test/Case00');
    expect(test0).toMatchObject({
      subset: 'test',
      patient: 'test/Case00',
      image: join(tree.root, 'TestData', 'Case00.mhd'),
    });
    expect(test0?.label).toBeUndefined();
    expect(m.cases.find((c) => c.id === 'Case00')?.label).toBe(
      join(tree.root, 'TrainingData_Part1', 'Case00_segmentation.mhd'),
    );
    expect(m.problems).toEqual([]);
  });

  it('reads a single folder of CaseNN.mhd files', async () => {
    const tree = await writePromise12Tree(temp.make());
    const m = await readDatasetLayout(join(tree.root, 'TrainingData_Part1'));
    expect(m.kind).toBe('promise12');
    expect(m.cases.map((c) => c.id)).toEqual(['Case00', 'Case01']);
  });

  it('reports an image without mask, a mask without image, and an id in two parts', async () => {
    const tree = await writePromise12Tree(temp.make());
    const part2 = join(tree.root, 'TrainingData_Part2');
    await rm(join(part2, 'Case02_segmentation.mhd'));
    await writePromise12MetaImage(part2, 'Case07_segmentation', {
      shape: [8, 8, 4],
      spacing: [1, 1, 1],
      offset: [0, 0, 0],
      elementType: 'MET_UCHAR',
      data: new Uint8Array(256),
    });
    await writePromise12MetaImage(part2, 'Case01', {
      shape: [8, 8, 4],
      spacing: [1, 1, 1],
      offset: [0, 0, 0],
      elementType: 'MET_SHORT',
      data: promise12FixtureImage(1),
    });
    await mkdir(join(tree.root, 'TrainingData_Part3', 'extra'));
    const m = await readDatasetLayout(tree.root);
    const byId = (id: string) => m.cases.find((c) => c.id === id);
    expect(byId('Case02')?.problems[0]).toEqual({
      message:
        'TrainingData_Part2/Case02.mhd has no label map: TrainingData_Part2/Case02_segmentation.mhd is missing.',
      file: join(part2, 'Case02_segmentation.mhd'),
    });
    expect(byId('Case07')?.problems[0]).toEqual({
      message:
        'TrainingData_Part2/Case07_segmentation.mhd has no image: TrainingData_Part2/Case07.mhd is missing.',
      file: join(part2, 'Case07.mhd'),
    });
    expect(
      byId('Case01#2')
        ?.problems.map((p) => p.message)
        .join('\n'),
    ).toContain(
      'Case Case01 appears more than once (TrainingData_Part1/Case01.mhd and TrainingData_Part2/Case01.mhd)',
    );
    expect(byId('Case01')?.problems).toEqual([]);
  });
});
