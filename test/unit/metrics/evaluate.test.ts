import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeVolume } from '../../../core/io/volume-files.ts';
import type { Mat3, Vec3, Volume } from '../../../core/io/volume.ts';
import { evaluatePredictions } from '../../../core/metrics/evaluation/evaluate-folder.ts';
import { evaluationCsv } from '../../../core/metrics/evaluation/report.ts';
import { hippocampusFolder } from '../../../bench/metrics/bundle.ts';
import { block, paint } from './helpers.ts';

const SHAPE: Vec3 = [6, 5, 4];
const SPACING: Vec3 = [1.5, 1.5, 10];
const IDENTITY: Mat3 = [1, 0, 0, 0, 1, 0, 0, 0, 1];

function labelVolume(parts: [number, Vec3[]][], shape = SHAPE, spacing = SPACING): Volume {
  const data = new Uint8Array(shape[0] * shape[1] * shape[2]);
  for (const [label, voxels] of parts) for (const v of voxels) paint(data, shape, v, label);
  return { data, shape, spacing, origin: [0, 0, 0], direction: IDENTITY, dataType: 'uint8' };
}

/** Paths of every number in a JSON-able value that is NaN or infinite, and of every null. */
function nonFiniteLeaves(value: unknown, path = ''): string[] {
  if (value === null) return [path];
  if (typeof value === 'number') return Number.isFinite(value) ? [] : [path];
  if (typeof value !== 'object') return [];
  return Object.entries(value).flatMap(([key, v]) => nonFiniteLeaves(v, `${path}.${key}`));
}

let root = '';
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'emonas-evaluate-'));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

async function plainFixture(name: string) {
  const gt = join(root, name, 'gt');
  const pred = join(root, name, 'pred');
  mkdirSync(gt, { recursive: true });
  mkdirSync(pred, { recursive: true });
  const reference = labelVolume([
    [1, block([1, 1, 1], [3, 3, 1])],
    [2, block([4, 0, 0], [5, 1, 3])],
  ]);
  // case_a: label 1 one slice off (10 mm), label 2 exact.
  await writeVolume(join(gt, 'case_a_gt.nii.gz'), reference);
  await writeVolume(
    join(pred, 'case_a.nii.gz'),
    labelVolume([
      [1, block([1, 1, 2], [3, 3, 2])],
      [2, block([4, 0, 0], [5, 1, 3])],
    ]),
  );
  // case_b: label 1 exact, label 2 missed entirely.
  await writeVolume(join(gt, 'case_b_gt.nii.gz'), reference);
  await writeVolume(join(pred, 'case_b.nii.gz'), labelVolume([[1, block([1, 1, 1], [3, 3, 1])]]));
  // case_c: the prediction is on another grid.
  await writeVolume(join(gt, 'case_c_gt.nii.gz'), reference);
  await writeVolume(join(pred, 'case_c.nii.gz'), labelVolume([], [6, 5, 4], [1.5, 1.5, 5]));
  // stray: no ground truth.
  await writeVolume(join(pred, 'stray.nii.gz'), reference);
  return { gt, pred };
}

/** Two predictions off their ground truth's grid and one without ground truth: nothing to evaluate. */
async function unevaluableFixture(name: string) {
  const gt = join(root, name, 'gt');
  const pred = join(root, name, 'pred');
  mkdirSync(gt, { recursive: true });
  mkdirSync(pred, { recursive: true });
  const reference = labelVolume([[1, block([1, 1, 1], [3, 3, 1])]]);
  for (const id of ['case_x', 'case_y']) {
    await writeVolume(join(gt, `${id}_gt.nii.gz`), reference);
    await writeVolume(join(pred, `${id}.nii.gz`), labelVolume([], SHAPE, [1.5, 1.5, 5]));
  }
  await writeVolume(join(pred, 'stray.nii.gz'), reference);
  return { gt, pred };
}

describe('evaluatePredictions on plain folders', () => {
  it('pairs by case id, scores each structure in mm and lists unusable pairs with their file', async () => {
    const { gt, pred } = await plainFixture('plain');
    const report = await evaluatePredictions({ pred, gt });
    expect(report.datasetKind).toBe('plain');
    expect(report.labels).toEqual({ label_1: 1, label_2: 2 });
    expect(report.perCase.map((c) => c.id)).toEqual(['case_a', 'case_b']);
    const a = report.perCase[0]!;
    expect(a['label_1']).toMatchObject({ dice: 0, hd: 10, hd95: 10, assd: 10 });
    expect(a['label_2']).toMatchObject({ dice: 1, hd: 0 });
    const diagonal = Math.hypot(6 * 1.5, 5 * 1.5, 4 * 10);
    const b = report.perCase[1]!;
    expect(b['label_2']).toMatchObject({ dice: 0, nsd: 0, empty: 'prediction' });
    expect((b['label_2'] as { hd95: number }).hd95).toBeCloseTo(diagonal, 12);
    expect(report.mean['label_1']!.dice).toBeCloseTo(0.5, 12);
    expect(report.mean['label_2']!.hd).toBeCloseTo(diagonal / 2, 12);
    expect(report.summary['label_2']!.dice).toMatchObject({ n: 2, median: 0.5 });
    const files = report.problems.map((p) => p.file).sort();
    expect(files).toEqual([join(pred, 'case_c.nii.gz'), join(pred, 'stray.nii.gz')].sort());
    expect(report.problems.find((p) => p.id === 'case_c')!.message).toMatch(
      /case_c\.nii\.gz is not on the grid .*spacing is 1\.5, 1\.5, 5 mm, the ground truth's 1\.5, 1\.5, 10 mm/,
    );
    expect(nonFiniteLeaves(report)).toEqual([]);
    const csv = evaluationCsv(report).trim().split('\n');
    expect(csv).toHaveLength(1 + 2 * 2);
    expect(csv[0]).toContain('hd95_mm');
    expect(csv[1]).toMatch(/^case_a,,,label_1,whole,0,/);
  });

  it('names every case it could not evaluate when none can be', async () => {
    const { gt, pred } = await unevaluableFixture('none');
    const err = await evaluatePredictions({ pred, gt }).then(
      () => {
        throw new Error('expected no case to be evaluated');
      },
      (e: unknown) => e as { message: string; details: { problems: { file: string }[] } },
    );
    expect(err.message).toContain('No case could be evaluated (3 problem(s))');
    for (const name of ['case_x.nii.gz is not on the grid', 'case_y.nii.gz is not on the grid']) {
      expect(err.message).toContain(name);
    }
    expect(err.message).toContain('stray.nii.gz has no ground truth');
    expect(err.details.problems.map((p) => p.file).sort()).toEqual(
      ['case_x', 'case_y', 'stray'].map((n) => join(pred, `${n}.nii.gz`)),
    );
  });

  it('tells which folder does not exist', async () => {
    await expect(evaluatePredictions({ pred: join(root, 'nowhere'), gt: root })).rejects.toThrow(
      /--pred folder .*nowhere does not exist/,
    );
  });
});

const EMONAS = fileURLToPath(new URL('../../../bin/emonas.mjs', import.meta.url));

/** The emonas command as `npx emonas` runs it, without npx's own start-up time. */
function emonas(args: string[]) {
  return spawnSync(process.execPath, [EMONAS, ...args], { encoding: 'utf8' });
}

describe('emonas evaluate', () => {
  it('prints JSON with perCase and mean, writes the CSV, and exits 1 naming each bad pair', async () => {
    const { gt, pred } = await plainFixture('cli');
    const csv = join(root, 'cli', 'table.csv');
    const r = emonas(['evaluate', '--pred', pred, '--gt', gt, '--json', '--csv', csv]);
    expect(r.status).toBe(1);
    const json = JSON.parse(r.stdout) as {
      perCase: { id: string }[];
      mean: Record<string, { dice: number }>;
    };
    expect(json.perCase.map((c) => c.id)).toEqual(['case_a', 'case_b']);
    expect(json.mean['label_1']!.dice).toBeCloseTo(0.5, 12);
    expect(r.stderr).toContain('case_c.nii.gz is not on the grid');
    expect(r.stderr).toContain('stray.nii.gz has no ground truth');
    expect(readFileSync(csv, 'utf8').split('\n')[0]).toMatch(/^case,patient,phase,structure/);
  });

  it('exits 1 naming every case when none can be evaluated', async () => {
    const { gt, pred } = await unevaluableFixture('none-cli');
    const r = emonas(['evaluate', '--pred', pred, '--gt', gt]);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('case_x.nii.gz is not on the grid');
    expect(r.stderr).toContain('case_y.nii.gz is not on the grid');
    expect(r.stderr).toContain('stray.nii.gz has no ground truth');
  });

  it('rejects a bad option with status 2', () => {
    const r = emonas(['evaluate', '--pred', 'a', '--gt', 'b', '--hd95', 'mean']);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('--hd95 is pooled or max-directed');
  });
});

describe('dataset-specific evaluation', () => {
  it('pairs predictions named like the images of a Decathlon task with its label files', async () => {
    const pred = join(root, 'msd-pred');
    mkdirSync(pred);
    const data = hippocampusFolder();
    for (const name of ['hippocampus_001.nii.gz', 'hippocampus_003.nii.gz']) {
      copyFileSync(join(data, 'labelsTr', name), join(pred, name));
    }
    const report = await evaluatePredictions({ pred, gt: data, tau: 2 });
    expect(report.datasetKind).toBe('msd');
    expect(report.labels).toEqual({ Anterior: 1, Posterior: 2 });
    expect(report.perCase.map((c) => c.id)).toEqual(['hippocampus_001', 'hippocampus_003']);
    expect(report.msd).toMatchObject({ tau: 2, perLabel: { Anterior: { dice: { mean: 1, n: 2 } } } });
    expect(report.missingPredictions.length).toBeGreaterThan(100);
  });

  it('reports ACDC structures per phase and clinical indices from plain folders with --dataset-kind acdc', async () => {
    const gt = join(root, 'acdc', 'gt');
    const pred = join(root, 'acdc', 'pred');
    mkdirSync(gt, { recursive: true });
    mkdirSync(pred, { recursive: true });
    const heart = (lv: number) =>
      labelVolume([
        [1, block([0, 0, 0], [1, 4, 3])],
        [2, block([2, 0, 0], [2, 4, 3])],
        [3, block([3, 0, 0], [2 + lv, 4, 3])],
      ]);
    // ED LV 3×5×4 voxels, ES LV 1×5×4; the prediction gets ES LV 2×5×4.
    await writeVolume(join(gt, 'patient001_ED.nii.gz'), heart(3));
    await writeVolume(join(gt, 'patient001_ES.nii.gz'), heart(1));
    await writeVolume(join(pred, 'patient001_ED.nii.gz'), heart(3));
    await writeVolume(join(pred, 'patient001_ES.nii.gz'), heart(2));
    const report = await evaluatePredictions({ pred, gt, datasetKind: 'acdc' });
    expect(report.labels).toEqual({ RV: 1, Myo: 2, LV: 3 });
    const voxelMl = (1.5 * 1.5 * 10) / 1000;
    const lv = report.acdc!.clinical.perPatient[0]!.indices;
    expect(lv.lvEdv.reference).toBeCloseTo(60 * voxelMl, 12);
    expect(lv.lvEsv.reference).toBeCloseTo(20 * voxelMl, 12);
    expect(lv.lvEsv.prediction).toBeCloseTo(40 * voxelMl, 12);
    expect(lv.lvEf.reference).toBeCloseTo((100 * 40) / 60, 10);
    expect(lv.lvEf.prediction).toBeCloseTo((100 * 20) / 60, 10);
    expect(lv.myoMass.reference).toBeCloseTo(20 * voxelMl * 1.05, 12);
    expect(report.acdc!.perPhase.ES.LV.dice.mean).toBeCloseTo(40 / 60, 12);
    expect(report.acdc!.perPhase.ED.LV.dice.mean).toBe(1);
  });

  it('scores PROMISE12 whole gland, apex and base from MetaImage files', async () => {
    const gt = join(root, 'promise', 'gt');
    const pred = join(root, 'promise', 'pred');
    mkdirSync(gt, { recursive: true });
    mkdirSync(pred, { recursive: true });
    const shape: Vec3 = [6, 6, 9];
    const spacing: Vec3 = [0.5, 0.5, 3];
    await writeVolume(
      join(gt, 'Case00_segmentation.mhd'),
      labelVolume([[1, block([2, 2, 1], [3, 3, 7])]], shape, spacing),
    );
    await writeVolume(
      join(pred, 'Case00.mhd'),
      labelVolume([[1, block([2, 2, 2], [3, 3, 7])]], shape, spacing),
    );
    const report = await evaluatePredictions({ pred, gt, datasetKind: 'promise12' });
    expect(report.labels).toEqual({ prostate: 1 });
    expect(report.promise12!.summary.whole.dice.mean).toBeCloseTo(12 / 13, 12);
    expect(report.promise12!.summary.apex.dice.mean).toBeCloseTo(2 / 3, 12);
    expect(report.promise12!.summary.base.dice.mean).toBe(1);
    expect(report.promise12!.summary.apex.abd.mean).toBeCloseTo(1, 12);
    expect(evaluationCsv(report)).toMatch(/\nCase00,[^,]*,,prostate,apex,/);
  });
});
