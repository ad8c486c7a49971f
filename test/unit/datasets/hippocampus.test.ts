import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CaseEntry } from '../../../core/datasets/case-table.ts';
import { inspectDataset, loadCase, type DatasetReport } from '../../../core/service/datasets.ts';
import { realHippocampusFolder } from '../../fixtures/hippocampus.ts';
import { tempDirs } from '../../fixtures/temp-dir.ts';

const temp = tempDirs('hippocampus');
afterAll(temp.cleanup);

describe('the real Decathlon Task04_Hippocampus', () => {
  let folder = '';
  let report: DatasetReport;
  let seconds = 0;
  beforeAll(async () => {
    folder = realHippocampusFolder();
    const start = performance.now();
    report = await inspectDataset(folder);
    seconds = (performance.now() - start) / 1000;
  });

  it('has 200 usable cases and the three labels', () => {
    expect(report.kind).toBe('msd');
    expect(report.labels).toEqual({ 0: 'background', 1: 'Anterior', 2: 'Posterior' });
    expect(report.summary).toMatchObject({ cases: 200, usable: 200, broken: 0, test: 0, problems: 0 });
    expect(report.cases.every((c) => c.ok && c.subset === 'train' && c.problems.length === 0)).toBe(true);
  });

  it('has 1 mm spacing and shapes within 31..43 x 40..59 x 24..47', () => {
    expect(report.cases).toHaveLength(200);
    for (const c of report.cases) expect(c.spacing?.map((s) => Math.round(s * 1e4) / 1e4)).toEqual([1, 1, 1]);
    expect(report.summary.shape?.min).toEqual([31, 40, 24]);
    expect(report.summary.shape?.max).toEqual([43, 59, 47]);
  });

  it('inspects the 200 cases, label voxels included, in a few seconds', () => {
    // Generous for a shared 2-core machine; alone it takes well under a second (see docs/benchmarks.md).
    expect(seconds).toBeLessThan(8);
  });

  it('loads the float32-stored label maps of hippocampus_003 and _243 as integer Uint8Array', async () => {
    for (const id of ['hippocampus_003', 'hippocampus_243']) {
      const entry = report.cases.find((c) => c.id === id) as CaseEntry;
      const { image, label } = await loadCase(entry);
      expect(label?.dataType).toBe('float32');
      expect(label?.data).toBeInstanceOf(Uint8Array);
      expect(label?.shape).toEqual(image.shape);
      expect(new Set(label?.data)).toEqual(new Set([0, 1, 2]));
    }
  });
});

describe('emonas dataset inspect', () => {
  it('prints the hippocampus report as JSON and exits 0', () => {
    const folder = realHippocampusFolder();
    const r = spawnSync('npx', ['emonas', 'dataset', 'inspect', folder, '--json'], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    const json = JSON.parse(r.stdout);
    expect(json.kind).toBe('msd');
    expect(json.labels).toEqual({ '0': 'background', '1': 'Anterior', '2': 'Posterior' });
    expect(json.cases).toHaveLength(200);
    expect(json.cases[0]).toMatchObject({ id: 'hippocampus_001', ok: true, problems: [] });
    expect(json.cases[0].shape).toHaveLength(3);
    expect(json.cases[0].spacing).toHaveLength(3);
    expect(json.summary.usable).toBe(200);
  });

  it('prints a readable report with each problem and its file', () => {
    const dir = temp.make();
    mkdirSync(join(dir, 'TrainingData_Part1'));
    writeFileSync(join(dir, 'TrainingData_Part1', 'Case00.mhd'), 'ObjectType = Image\n');
    const r = spawnSync('npx', ['emonas', 'dataset', 'inspect', dir], { encoding: 'utf8' });
    expect(r.stdout).toContain(`Dataset:  PROMISE12 in ${dir}`);
    expect(r.stdout).toContain('Cases:    0 usable for training, 0 test, 1 broken (1 in all)');
    expect(r.stdout).toContain(`file: ${join(dir, 'TrainingData_Part1', 'Case00_segmentation.mhd')}`);
    expect(r.status).toBe(1);
    expect(
      r.stderr
        .trim()
        .split('\n')
        .filter((l) => l.startsWith('emonas:')),
    ).toEqual([
      `emonas: no case in ${dir} can be used for training (1 broken of 1); fix the problems listed and inspect again.`,
    ]);
  });

  it('fails with one line on stderr for a folder that is not a dataset', () => {
    const dir = temp.make();
    writeFileSync(join(dir, 'readme.txt'), 'not a dataset');
    const r = spawnSync('npx', ['emonas', 'dataset', 'inspect', dir, '--json'], { encoding: 'utf8' });
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('');
    const lines = r.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^emonas: .* is not a dataset folder: looked for dataset\.json/);
  });

  it('fails with one line on stderr for a missing folder', () => {
    const r = spawnSync('npx', ['emonas', 'dataset', 'inspect', '/no/such/dataset'], { encoding: 'utf8' });
    expect(r.status).toBe(1);
    expect(r.stderr.trim().split('\n')).toEqual(['emonas: The folder /no/such/dataset does not exist.']);
  });
});
