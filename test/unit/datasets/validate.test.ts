import { spawnSync } from 'node:child_process';
import { chmodSync, readFileSync } from 'node:fs';
import { mkdir, rm, symlink, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { CaseEntry } from '../../../core/datasets/case-table.ts';
import { writeNifti } from '../../../core/io/nifti-write.ts';
import { inspectDataset, type DatasetReport } from '../../../core/service/datasets.ts';
import { writeMsdTree, msdFixtureBoxes } from '../../fixtures/msd-tree.ts';
import { boxLabels } from '../../fixtures/synthetic-volumes.ts';
import { tempDirs } from '../../fixtures/temp-dir.ts';

const temp = tempDirs('validate');
afterAll(temp.cleanup);

const IMAGE = join('imagesTr', 'fixture_003.nii.gz');
const LABEL = join('labelsTr', 'fixture_003.nii.gz');

/** Inspects a fresh MSD fixture after `damage`, and returns case fixture_003 and the report. */
async function inspectDamaged(damage: (root: string) => Promise<void>) {
  const tree = await writeMsdTree(temp.make());
  await damage(tree.root);
  const report = await inspectDataset(tree.root);
  const entry = report.cases.find((c) => c.id === 'fixture_003') as CaseEntry;
  return { root: tree.root, report, entry };
}

function expectOnlyThisCaseBroken(report: Awaited<ReturnType<typeof inspectDataset>>): void {
  expect(report.cases.filter((c) => !c.ok).map((c) => c.id)).toEqual(['fixture_003']);
  expect(report.summary.usable).toBe(2);
  expect(report.summary.broken).toBe(1);
}

describe('a sound fixture', () => {
  it('imports every case with its geometry and no problem', async () => {
    const tree = await writeMsdTree(temp.make());
    const report = await inspectDataset(tree.root);
    expect(report.cases.every((c) => c.ok)).toBe(true);
    expect(report.summary).toMatchObject({ cases: 4, usable: 3, test: 1, broken: 0, problems: 0 });
    expect(report.cases[0]).toMatchObject({ shape: [8, 8, 4], spacing: [1, 1, 1], origin: [0, 0, 0] });
  });
});

describe('each broken input is reported on its case, naming the file', () => {
  it('a file that is not NIfTI at all', async () => {
    const { root, report, entry } = await inspectDamaged((r) =>
      writeFile(join(r, LABEL), 'this is not an image'.repeat(30)),
    );
    expect(entry.problems).toHaveLength(1);
    expect(entry.problems[0]?.file).toBe(join(root, LABEL));
    expect(entry.problems[0]?.message).toContain('fixture_003.nii.gz');
    expectOnlyThisCaseBroken(report);
  });

  it('a truncated label map', async () => {
    const { root, report, entry } = await inspectDamaged(async (r) => {
      const bytes = readFileSync(join(r, LABEL));
      await writeFile(join(r, LABEL), bytes.subarray(0, Math.floor(bytes.length / 2)));
    });
    expect(entry.problems).toEqual([
      { message: expect.stringContaining('fixture_003.nii.gz'), file: join(root, LABEL) },
    ]);
    expectOnlyThisCaseBroken(report);
  });

  it('a gzipped image cut short at its end', async () => {
    const { root, report, entry } = await inspectDamaged(async (r) => {
      const bytes = readFileSync(join(r, IMAGE));
      await writeFile(join(r, IMAGE), bytes.subarray(0, bytes.length - 30));
    });
    expect(entry.problems).toEqual([
      { message: expect.stringMatching(/fixture_003\.nii\.gz .*truncated/), file: join(root, IMAGE) },
    ]);
    expectOnlyThisCaseBroken(report);
  });

  it('a truncated image (uncompressed .nii, data cut short)', async () => {
    const tree = await writeMsdTree(temp.make());
    const json = JSON.parse(readFileSync(join(tree.root, 'dataset.json'), 'utf8'));
    json.training[1].image = './imagesTr/fixture_003.nii';
    await writeFile(join(tree.root, 'dataset.json'), JSON.stringify(json));
    await rm(join(tree.root, IMAGE));
    const { taggedImage } = await import('../../fixtures/synthetic-volumes.ts');
    await writeNifti(join(tree.root, 'imagesTr', 'fixture_003.nii'), taggedImage(3));
    await truncate(join(tree.root, 'imagesTr', 'fixture_003.nii'), 352 + 100);
    const report = await inspectDataset(tree.root);
    const entry = report.cases.find((c) => c.id === 'fixture_003');
    expect(entry?.problems).toEqual([
      {
        message: expect.stringMatching(/fixture_003\.nii .*truncated/),
        file: join(tree.root, 'imagesTr', 'fixture_003.nii'),
      },
    ]);
    expectOnlyThisCaseBroken(report);
  });

  it('a label map on another grid: shape, spacing, origin and direction each named', async () => {
    const { root, report, entry } = await inspectDamaged((r) =>
      writeNifti(
        join(r, LABEL),
        boxLabels(msdFixtureBoxes(3), {
          shape: [8, 8, 5],
          spacing: [1, 1, 1.2],
          origin: [0.5, 0, 0],
          direction: [0, 1, 0, 1, 0, 0, 0, 0, 1],
        }),
      ),
    );
    expect(entry.problems).toHaveLength(1);
    const p = entry.problems[0];
    expect(p?.file).toBe(join(root, LABEL));
    expect(p?.message).toContain(
      `labelsTr/fixture_003.nii.gz is not on the grid of its image imagesTr/fixture_003.nii.gz`,
    );
    expect(p?.message).toMatch(
      /shape 8 x 8 x 5 .*spacing 1 x 1 x 1.2 mm .*origin \(0.5, 0, 0\) mm .*direction/,
    );
    expectOnlyThisCaseBroken(report);
  });

  it('label values the label table does not declare, listed', async () => {
    const { root, entry } = await inspectDamaged((r) =>
      writeNifti(
        join(r, LABEL),
        boxLabels([
          ...msdFixtureBoxes(3),
          { value: 5, from: [0, 0, 0], to: [1, 1, 1] },
          { value: 7, from: [7, 7, 3], to: [8, 8, 4] },
        ]),
      ),
    );
    expect(entry.problems).toEqual([
      {
        message:
          'labelsTr/fixture_003.nii.gz holds label values 5, 7 that the label table does not declare (0 background, 1 Anterior, 2 Posterior).',
        file: join(root, LABEL),
      },
    ]);
  });

  it('label values that are not whole numbers', async () => {
    const { root, entry } = await inspectDamaged((r) =>
      writeNifti(
        join(r, LABEL),
        boxLabels([...msdFixtureBoxes(3), { value: 1.5, from: [0, 0, 0], to: [1, 1, 2] }], {}, 'float32'),
      ),
    );
    expect(entry.problems).toEqual([
      {
        message: expect.stringMatching(
          /^labelsTr\/fixture_003\.nii\.gz holds 2 voxels that are not whole numbers \(e\.g\. 1\.5\)/,
        ),
        file: join(root, LABEL),
      },
    ]);
  });

  it('an empty label map', async () => {
    const { root, entry } = await inspectDamaged((r) => writeNifti(join(r, LABEL), boxLabels([])));
    expect(entry.problems).toEqual([
      {
        message: 'labelsTr/fixture_003.nii.gz is empty: it holds no foreground voxel, only background.',
        file: join(root, LABEL),
      },
    ]);
  });

  it('an image without its label map (listed but absent)', async () => {
    const { root, report, entry } = await inspectDamaged((r) => rm(join(r, LABEL)));
    expect(entry.problems).toEqual([
      {
        message: expect.stringContaining(
          'labelsTr/fixture_003.nii.gz is listed in dataset.json but is not in the folder',
        ),
        file: join(root, LABEL),
      },
    ]);
    expect(entry.shape).toEqual([8, 8, 4]);
    expectOnlyThisCaseBroken(report);
  });

  it('a label map without its image', async () => {
    const { root, entry } = await inspectDamaged((r) => rm(join(r, IMAGE)));
    expect(entry.problems).toEqual([
      {
        message: expect.stringContaining(
          'imagesTr/fixture_003.nii.gz is listed in dataset.json but is not in the folder',
        ),
        file: join(root, IMAGE),
      },
    ]);
  });

  it('a folder named like the image file', async () => {
    const { root, entry } = await inspectDamaged(async (r) => {
      await rm(join(r, IMAGE));
      await mkdir(join(r, IMAGE));
    });
    expect(entry.problems).toEqual([
      {
        message: 'imagesTr/fixture_003.nii.gz is a folder, but a file was expected here.',
        file: join(root, IMAGE),
      },
    ]);
  });

  it('a zero-byte file', async () => {
    const { root, entry } = await inspectDamaged((r) => writeFile(join(r, LABEL), ''));
    expect(entry.problems).toEqual([
      {
        message: 'labelsTr/fixture_003.nii.gz is empty (0 bytes); copy it again from the original archive.',
        file: join(root, LABEL),
      },
    ]);
  });

  it('a symbolic link that loops back on itself', async () => {
    const { root, entry } = await inspectDamaged(async (r) => {
      await rm(join(r, LABEL));
      await symlink('fixture_003.nii.gz', join(r, LABEL));
    });
    expect(entry.problems).toEqual([
      {
        message:
          'labelsTr/fixture_003.nii.gz is a symbolic link that loops back on itself; point it at a real file.',
        file: join(root, LABEL),
      },
    ]);
  });

  it('a file the user may not read (as root: checked without the capability to override permissions)', async () => {
    const tree = await writeMsdTree(temp.make());
    chmodSync(join(tree.root, LABEL), 0o000);
    const report = await inspectAsUnprivileged(tree.root);
    const entry = report.cases.find((c) => c.id === 'fixture_003');
    expect(entry?.problems).toEqual([
      {
        message:
          'labelsTr/fixture_003.nii.gz cannot be read: permission denied. Give your user read access to it.',
        file: join(tree.root, LABEL),
      },
    ]);
    expect(report.summary.usable).toBe(2);
  });

  it('a folder the user may not open: its files are reported unreadable, not absent', async () => {
    const tree = await writeMsdTree(temp.make());
    chmodSync(join(tree.root, 'labelsTr'), 0o000);
    const report = await inspectAsUnprivileged(tree.root);
    expect(report.problems).toEqual([]);
    expect(report.summary.usable).toBe(0);
    const train = report.cases.filter((e) => e.subset === 'train');
    expect(train.length).toBeGreaterThan(0);
    for (const c of train) {
      expect(c.problems).toEqual([
        {
          message: `labelsTr/${c.id}.nii.gz cannot be read: permission denied. Give your user read access to it.`,
          file: join(tree.root, 'labelsTr', `${c.id}.nii.gz`),
        },
      ]);
    }
  });
});

/**
 * Inspects as a user without the right to read every file. root reads any file, so as root the command runs
 * with root's permission-override capabilities dropped (setpriv, from util-linux).
 */
async function inspectAsUnprivileged(root: string): Promise<DatasetReport> {
  if (process.getuid?.() !== 0) return inspectDataset(root);
  const drop = '-dac_override,-dac_read_search';
  const emonas = join(process.cwd(), 'bin', 'emonas.mjs');
  const r = spawnSync(
    'setpriv',
    [
      `--inh-caps=${drop}`,
      `--bounding-set=${drop}`,
      process.execPath,
      emonas,
      'dataset',
      'inspect',
      root,
      '--json',
    ],
    { encoding: 'utf8' },
  );
  expect(r.error).toBeUndefined();
  expect(r.stderr).not.toMatch(/Error:|at /);
  return JSON.parse(r.stdout) as DatasetReport;
}
