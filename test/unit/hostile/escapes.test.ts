// Problem 1 of issue 16: a dataset folder must not make the engine read files outside it. A MetaImage
// header naming /etc/passwd as its voxels, dataset.json entries climbing out with ../../.., absolute paths,
// and symbolic links leading out (refused unless links are allowed at import), through inspection, the
// readers, the command line and the engine's case.volume.
import { copyFileSync, mkdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { datasetCommand } from '../../../core/cli/cmd-dataset.ts';
import { evaluateCommand } from '../../../core/cli/cmd-evaluate.ts';
import type { CaseEntry } from '../../../core/datasets/case-table.ts';
import { readVolume, verifyVolume, writeVolume } from '../../../core/io/volume-files.ts';
import type { EvaluationReport } from '../../../core/metrics/evaluation/report.ts';
import { createEngine } from '../../../core/service/index.ts';
import { parseDatasetProblem, searchSetupRequest } from '../../../core/train/setup/dataset-problem.ts';
import { prepareTrainingSetup } from '../../../core/train/setup/prepare.ts';
import { inspectDataset, loadCase, type DatasetReport } from '../../../core/service/datasets.ts';
import { writeAcdcTree } from '../../fixtures/acdc-tree.ts';
import { tempDirs } from '../../fixtures/temp-dir.ts';
import { demoImage, demoLabel, expectNamedError, makeMsdFolder } from './helpers.ts';

const temp = tempDirs('hostile-escapes');
afterAll(temp.cleanup);

const PASSWD = '/etc/passwd';

function caseById(report: DatasetReport, id: string): CaseEntry {
  const entry = report.cases.find((c) => c.id === id);
  if (!entry) throw new Error(`no case ${id} in ${report.cases.map((c) => c.id).join(', ')}`);
  return entry;
}

/** A PROMISE12-shaped folder: Case00 a real case as MetaImage, Case01 a header whose voxels are /etc/passwd. */
async function passwdFolder(): Promise<string> {
  const root = temp.make();
  const image = await readVolume(demoImage('hippocampus_001'));
  const hippocampus = await readVolume(demoLabel('hippocampus_001'));
  // PROMISE12 has one foreground label (prostate): both hippocampus parts become 1.
  const label = { ...hippocampus, data: hippocampus.data.map((v) => (v > 0 ? 1 : 0)) };
  await writeVolume(join(root, 'Case00.mhd'), image);
  await writeVolume(join(root, 'Case00_segmentation.mhd'), label);
  const bytes = statSync(PASSWD).size;
  expect(bytes).toBeGreaterThan(0);
  writeFileSync(
    join(root, 'Case01.mhd'),
    [
      'ObjectType = Image',
      'NDims = 3',
      'BinaryData = True',
      'CompressedData = False',
      'ElementSpacing = 1 1 1',
      `DimSize = ${bytes} 1 1`,
      'ElementType = MET_UCHAR',
      `ElementDataFile = ${PASSWD}`,
      '',
    ].join('\n'),
  );
  await writeVolume(join(root, 'Case01_segmentation.mhd'), label);
  return root;
}

describe('a MetaImage whose ElementDataFile is /etc/passwd (declared MET_UCHAR with its exact size)', () => {
  it('is a problem of its case naming the file and the reason; the real case stays usable', async () => {
    const root = await passwdFolder();
    const report = await inspectDataset(root);
    expect(report.kind).toBe('promise12');
    expect(caseById(report, 'Case00').ok).toBe(true);
    const hostile = caseById(report, 'Case01');
    expect(hostile.ok).toBe(false);
    expect(hostile.shape).toBeUndefined();
    expect(hostile.problems).toHaveLength(1);
    expect(hostile.problems[0]?.file).toBe(join(root, 'Case01.mhd'));
    expect(hostile.problems[0]?.message).toContain('Case01.mhd');
    expect(hostile.problems[0]?.message).toContain(PASSWD);
    expect(hostile.problems[0]?.message).toContain('outside the folder');
    expect(report.summary.usable).toBe(1);
  });

  it('is refused by every reader, even outside a dataset (the data file must lie by its header)', async () => {
    const root = await passwdFolder();
    const file = join(root, 'Case01.mhd');
    for (const read of [readVolume, verifyVolume]) {
      const err = expectNamedError(await read(file).catch((e: unknown) => e), file);
      expect(err.code).toBe('unreadable_file');
      expect(err.message).toContain('ElementDataFile');
    }
  });

  it('is refused by case.volume of a library dataset, which reads nothing outside its folder', async () => {
    const root = await passwdFolder();
    const engine = createEngine({ dataDir: temp.make(), log: () => undefined });
    const imported = await engine.call('dataset.import', { folder: root, name: 'hostile' });
    expect(imported.ok).toBe(true);
    const good = await engine.call('case.volume', { dataset: 'hostile', caseId: 'Case00' });
    expect(good.ok).toBe(true);
    const hostile = await engine.call('case.volume', { dataset: 'hostile', caseId: 'Case01' });
    expect(hostile.ok).toBe(false);
    expect(!hostile.ok && hostile.error.message).toContain('outside the folder');
    await engine.close();
  });

  it('a relative ElementDataFile climbing out with ../ is refused the same way', async () => {
    const root = temp.make();
    const inner = join(root, 'dataset');
    mkdirSync(inner);
    const label = await readVolume(demoLabel('hippocampus_001'));
    await writeVolume(join(root, 'outside.mhd'), label);
    const header = readFileSync(join(root, 'outside.mhd'), 'latin1').replace(
      /ElementDataFile = .*/,
      'ElementDataFile = ../outside.raw',
    );
    writeFileSync(join(inner, 'Case00.mhd'), header);
    writeFileSync(join(inner, 'Case00_segmentation.mhd'), header);
    const report = await inspectDataset(inner);
    const entry = caseById(report, 'Case00');
    expect(entry.ok).toBe(false);
    expect(entry.problems.map((p) => p.message).join(' ')).toContain('../outside.raw');
  });
});

describe('dataset.json entries that leave the folder', () => {
  it('../../.. and absolute paths are problems of their cases, never opened, and the rest imports', async () => {
    const root = temp.make();
    makeMsdFolder(
      root,
      ['hippocampus_001'],
      [
        { image: '../../../../../../etc/passwd', label: './labelsTr/hippocampus_001.nii.gz' },
        { image: './imagesTr/hippocampus_001.nii.gz', label: '../../../../../../../etc/shadow' },
        { image: PASSWD, label: '/etc/hostname' },
      ],
    );
    const report = await inspectDataset(root);
    expect(report.summary.usable).toBe(1);
    const outside = report.cases.filter((c) => !c.ok);
    expect(outside).toHaveLength(3);
    const messages = outside.flatMap((c) => c.problems.map((p) => p.message));
    expect(messages.filter((m) => m.includes('lies outside the dataset folder'))).toHaveLength(4);
    for (const listed of [
      '../../../../../../etc/passwd',
      '../../../../../../../etc/shadow',
      PASSWD,
      '/etc/hostname',
    ]) {
      expect(
        messages.some((m) => m.includes(JSON.stringify(listed))),
        listed,
      ).toBe(true);
    }
    // Neither geometry nor any voxel of the outside files was read.
    for (const entry of outside) expect(entry.shape).toBeUndefined();
  });

  it('an absolute path that points inside the folder is fine', async () => {
    const root = temp.make();
    makeMsdFolder(
      root,
      [],
      [
        {
          image: join(root, 'imagesTr', 'hippocampus_003.nii.gz'),
          label: join(root, 'labelsTr', 'hippocampus_003.nii.gz'),
        },
      ],
    );
    copyFileSync(demoImage('hippocampus_003'), join(root, 'imagesTr', 'hippocampus_003.nii.gz'));
    copyFileSync(demoLabel('hippocampus_003'), join(root, 'labelsTr', 'hippocampus_003.nii.gz'));
    const report = await inspectDataset(root);
    expect(report.summary.usable).toBe(1);
  });
});

describe('a symbolic link that leads out of the folder', () => {
  /** An MSD folder whose hippocampus_004 image and label are links to copies kept in another folder. */
  function linkedFolder(): { root: string; elsewhere: string } {
    const root = temp.make();
    const elsewhere = mkdtempSync(join(tmpdir(), 'emonas-hostile-elsewhere-'));
    makeMsdFolder(root, ['hippocampus_001']);
    copyFileSync(demoImage('hippocampus_004'), join(elsewhere, 'image.nii.gz'));
    copyFileSync(demoLabel('hippocampus_004'), join(elsewhere, 'label.nii.gz'));
    symlinkSync(join(elsewhere, 'image.nii.gz'), join(root, 'imagesTr', 'hippocampus_004.nii.gz'));
    symlinkSync(join(elsewhere, 'label.nii.gz'), join(root, 'labelsTr', 'hippocampus_004.nii.gz'));
    makeMsdFolder(
      root,
      ['hippocampus_001'],
      [{ image: './imagesTr/hippocampus_004.nii.gz', label: './labelsTr/hippocampus_004.nii.gz' }],
    );
    return { root, elsewhere };
  }

  it('is refused without allowLinks, naming the link, where it leads and how to allow it', async () => {
    const { root, elsewhere } = linkedFolder();
    const report = await inspectDataset(root);
    const linked = caseById(report, 'hippocampus_004');
    expect(linked.ok).toBe(false);
    const message = linked.problems[0]?.message ?? '';
    expect(message).toContain('imagesTr/hippocampus_004.nii.gz');
    expect(message).toContain(join(elsewhere, 'image.nii.gz'));
    expect(message).toContain('--allow-links');
    expect(report.allowLinks).toBeUndefined();
    await expect(loadCase(linked, { root, allowLinks: false })).rejects.toThrow(/symbolic link/);
  });

  it('is followed with allowLinks, and the report and library record say so', async () => {
    const { root } = linkedFolder();
    const report = await inspectDataset(root, { allowLinks: true });
    expect(caseById(report, 'hippocampus_004').ok).toBe(true);
    expect(report.allowLinks).toBe(true);
    expect(report.summary.usable).toBe(2);
    const engine = createEngine({ dataDir: temp.make(), log: () => undefined });
    const record = await engine.call('dataset.import', { folder: root, name: 'linked', allowLinks: true });
    expect(record.ok && record.value.allowLinks).toBe(true);
    const volume = await engine.call('case.volume', { dataset: 'linked', caseId: 'hippocampus_004' });
    expect(volume.ok).toBe(true);
    const refused = await engine.call('dataset.import', { folder: root, name: 'strict' });
    expect(refused.ok).toBe(true);
    const strict = await engine.call('case.volume', { dataset: 'strict', caseId: 'hippocampus_004' });
    expect(strict.ok).toBe(false);
    await engine.close();
  });

  it('emonas dataset inspect refuses it, and accepts it with --allow-links', async () => {
    const { root } = linkedFolder();
    const out: string[] = [];
    const write = vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
      out.push(String(chunk));
      return true;
    });
    const errWrite = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      expect(await datasetCommand.run(['inspect', root, '--json'])).toBe(0);
      const strict = JSON.parse(out.join('')) as DatasetReport;
      out.length = 0;
      expect(await datasetCommand.run(['inspect', root, '--json', '--allow-links'])).toBe(0);
      const allowed = JSON.parse(out.join('')) as DatasetReport;
      expect(strict.summary.usable).toBe(1);
      expect(allowed.summary.usable).toBe(2);
    } finally {
      write.mockRestore();
      errWrite.mockRestore();
    }
  });

  it('emonas evaluate --gt names a linked label map as a problem, and reads it with --allow-links', async () => {
    const { root } = linkedFolder();
    const pred = temp.make();
    for (const id of ['hippocampus_001', 'hippocampus_004']) {
      copyFileSync(demoLabel(id), join(pred, `${id}.nii.gz`));
    }
    const out: string[] = [];
    const err: string[] = [];
    const write = vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
      out.push(String(chunk));
      return true;
    });
    const errWrite = vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => {
      err.push(String(chunk));
      return true;
    });
    const evaluate = async (...flags: string[]) => {
      out.length = 0;
      err.length = 0;
      const status = await evaluateCommand.run(['--pred', pred, '--gt', root, '--json', ...flags]);
      const report = JSON.parse(out.join('')) as EvaluationReport;
      return { status, ids: report.perCase.map((c) => c.id), stderr: err.join('') };
    };
    try {
      const strict = await evaluate();
      expect(strict.status).toBe(1);
      expect(strict.ids).toEqual(['hippocampus_001']);
      expect(strict.stderr).toContain('labelsTr/hippocampus_004.nii.gz');
      expect(strict.stderr).toContain('symbolic link');
      expect(strict.stderr).toContain('--allow-links');
      const allowed = await evaluate('--allow-links');
      expect(allowed.status).toBe(0);
      expect(allowed.ids).toEqual(['hippocampus_001', 'hippocampus_004']);
      expect(allowed.stderr).not.toContain('symbolic link');
    } finally {
      write.mockRestore();
      errWrite.mockRestore();
    }
  });

  it('a search carries allowLinks from its problem to the training set-up it reads the dataset for', async () => {
    const { root } = linkedFolder();
    // Training needs two patients besides the linked one.
    makeMsdFolder(
      root,
      ['hippocampus_001', 'hippocampus_003'],
      [{ image: './imagesTr/hippocampus_004.nii.gz', label: './labelsTr/hippocampus_004.nii.gz' }],
    );
    const ids = async (allowLinks: boolean | undefined) => {
      const problem = parseDatasetProblem(
        { kind: 'dataset', dataset: root, valFraction: 0.5, ...(allowLinks !== undefined && { allowLinks }) },
        1,
      );
      const setup = await prepareTrainingSetup(searchSetupRequest(problem, { alpha: 0.25, beta: 0.5 }));
      return [...setup.train, ...setup.val].map((c) => c.id).sort();
    };
    expect(await ids(undefined)).toEqual(['hippocampus_001', 'hippocampus_003']);
    expect(await ids(true)).toEqual(['hippocampus_001', 'hippocampus_003', 'hippocampus_004']);
    expect(() => parseDatasetProblem({ kind: 'dataset', dataset: root, allowLinks: 'yes' }, 1)).toThrow(
      /allowLinks must be true or false/,
    );
  });

  it('an ACDC Info.cfg or cine linked out of the folder is not read either', async () => {
    const root = temp.make();
    const elsewhere = mkdtempSync(join(tmpdir(), 'emonas-hostile-acdc-'));
    const patient = join(root, 'training', 'patient001');
    mkdirSync(patient, { recursive: true });
    writeFileSync(join(elsewhere, 'Info.cfg'), 'ED: 1\nES: 1\nGroup: NOR\n');
    symlinkSync(join(elsewhere, 'Info.cfg'), join(patient, 'Info.cfg'));
    const report = await inspectDataset(root);
    expect(report.cases).toHaveLength(0);
    expect(report.problems.map((p) => p.message).join(' ')).toContain('symbolic link');
  });
});

describe('case.cine of a library record whose cine points out of the dataset folder', () => {
  /**
   * An ACDC tree imported twice (strict, and with allowLinks), whose patient001 cine is replaced by a link
   * to a copy kept elsewhere, and a helper that hand-edits a stored report.json to name any file as cine.
   */
  async function importedAcdc() {
    const root = temp.make();
    const tree = await writeAcdcTree(root);
    const patient = join(tree.training, 'patient001');
    const cine = join(patient, 'patient001_4d.nii.gz');
    const elsewhere = mkdtempSync(join(tmpdir(), 'emonas-hostile-cine-'));
    const copy = join(elsewhere, 'patient001_4d.nii.gz');
    copyFileSync(cine, copy);
    const dataDir = temp.make();
    const engine = createEngine({ dataDir, log: () => undefined });
    for (const [name, allowLinks] of [
      ['strict', false],
      ['linked', true],
    ] as const) {
      const imported = await engine.call('dataset.import', { folder: root, name, allowLinks });
      expect(imported.ok).toBe(true);
    }
    const setCine = (name: string, file: string) => {
      const stored = join(dataDir, 'datasets', name, 'report.json');
      const report = JSON.parse(readFileSync(stored, 'utf8')) as DatasetReport;
      const entry = caseById(report, 'patient001_ED');
      expect(entry.cine).toBe(cine);
      entry.cine = file;
      writeFileSync(stored, JSON.stringify(report));
    };
    const slice = (dataset: string) =>
      engine.call('case.cine', { dataset, caseId: 'patient001_ED', slice: 0 });
    return { engine, cine, copy, setCine, slice };
  }

  it('is refused with a message naming the file, with or without allowLinks', async () => {
    const { engine, copy, setCine, slice } = await importedAcdc();
    for (const name of ['strict', 'linked']) {
      const before = await slice(name);
      expect(before.ok, name).toBe(true);
      setCine(name, copy);
      const refused = await slice(name);
      expect(refused.ok, name).toBe(false);
      if (refused.ok) continue;
      expect(refused.error.code).toBe('unreadable_file');
      // Named as every reader names a file; the full path travels with the error.
      expect(refused.error.message).toContain('patient001_4d.nii.gz');
      expect(refused.error.file).toBe(copy);
      expect(refused.error.message).toContain('outside the folder');
    }
    await engine.close();
  });

  it('a cine that is a link out of the folder is read only when the dataset was imported with allowLinks', async () => {
    const { engine, cine, copy, setCine, slice } = await importedAcdc();
    rmSync(cine);
    symlinkSync(copy, cine);
    // The library records were made before the link: only the file behind the name changed.
    for (const name of ['strict', 'linked']) setCine(name, cine);
    const strict = await slice('strict');
    expect(strict.ok).toBe(false);
    expect(!strict.ok && strict.error.message).toContain('patient001_4d.nii.gz');
    expect(!strict.ok && strict.error.message).toContain('symbolic link');
    const linked = await slice('linked');
    expect(linked.ok).toBe(true);
    expect(linked.ok && linked.value.frames).toBe(10);
    await engine.close();
  });
});
