import { describe, expect, it } from 'vitest';
import { EmonasError } from '../../../core/base/errors.ts';
import { gridDifferences, type Grid } from '../../../core/datasets/grid.ts';
import { parseInfoCfg } from '../../../core/datasets/info-cfg.ts';
import { scanLabelValues, toIntegerLabels } from '../../../core/datasets/labels.ts';
import { parseMsdDescription } from '../../../core/datasets/msd.ts';
import { isJunkName } from '../../../core/datasets/files.ts';
import { summarizeDataset } from '../../../core/datasets/summary.ts';
import { labelValueProblems } from '../../../core/datasets/validate.ts';
import type { Volume } from '../../../core/io/volume.ts';

describe('Info.cfg', () => {
  it('reads key: value lines with CRLF endings and frame numbers written as 12.0', () => {
    const info = parseInfoCfg(
      '\uFEFFED: 8\r\nES: 3.0\r\nGroup: DCM\r\nHeight: 184.0\r\nNbFrame: 10\r\nWeight: 95.0\r\n',
    );
    expect(info.ed).toBe(8);
    expect(info.es).toBe(3);
    expect(info.nbFrame).toBe(10);
    expect(info.values).toEqual({
      ED: '8',
      ES: '3.0',
      Group: 'DCM',
      Height: '184.0',
      NbFrame: '10',
      Weight: '95.0',
    });
  });

  it('leaves ED undefined when it is not a positive whole number', () => {
    expect(parseInfoCfg('ED: one\nES: 0\n').ed).toBeUndefined();
    expect(parseInfoCfg('ED: one\nES: 0\n').es).toBeUndefined();
    expect(parseInfoCfg('ED: 2.5\n').ed).toBeUndefined();
  });
});

describe('dataset.json', () => {
  const file = '/x/dataset.json';
  it('reads the Decathlon form: labels as number -> name, ./ paths, test as plain paths', () => {
    const d = parseMsdDescription(
      {
        name: 'Hippocampus',
        relase: '1.0 04/05/2018',
        labels: { '0': 'background', '1': 'Anterior', '2': 'Posterior' },
        numTraining: 1,
        numTest: 1,
        training: [{ image: './imagesTr/h_1.nii.gz', label: './labelsTr/h_1.nii.gz' }],
        test: ['./imagesTs/h_2.nii.gz'],
      },
      file,
    );
    expect(d.labels).toEqual({ 0: 'background', 1: 'Anterior', 2: 'Posterior' });
    expect(d.training).toEqual([{ image: './imagesTr/h_1.nii.gz', label: './labelsTr/h_1.nii.gz' }]);
    expect(d.test).toEqual(['./imagesTs/h_2.nii.gz']);
    expect(d.problems).toEqual([]);
  });

  it("also reads nnU-Net v2's reversed labels and adds an undeclared background", () => {
    expect(parseMsdDescription({ labels: { Anterior: 1, Posterior: 2 } }, file).labels).toEqual({
      0: 'background',
      1: 'Anterior',
      2: 'Posterior',
    });
  });

  it('rejects a file without labels, naming the file', () => {
    expect(() => parseMsdDescription({ name: 'x' }, file)).toThrow(/\/x\/dataset\.json has no "labels"/);
    expect(() => parseMsdDescription([], file)).toThrow(EmonasError);
  });

  it('skips malformed training entries with a sentence per entry', () => {
    const d = parseMsdDescription({ labels: { 0: 'background' }, training: [{ image: 3 }, 'x'] }, file);
    expect(d.training).toEqual([]);
    expect(d.problems).toHaveLength(2);
    expect(d.problems[0]).toMatch(/Entry 1 of "training"/);
  });
});

describe('label values', () => {
  it('lists distinct values of byte and float maps and finds non-integers', () => {
    expect(scanLabelValues(Uint8Array.from([0, 0, 2, 1, 2])).values).toEqual([0, 1, 2]);
    const scan = scanLabelValues(Float32Array.from([0, 0, 1, 1.5, NaN, 2]));
    expect(scan.values).toEqual([0, 1, 2]);
    expect(scan.nonIntegerCount).toBe(2);
    expect(scan.nonIntegerExamples).toEqual([1.5, NaN]);
  });

  const volume = (data: Volume['data']): Volume => ({
    data,
    shape: [data.length, 1, 1],
    spacing: [1, 1, 1],
    origin: [0, 0, 0],
    direction: [1, 0, 0, 0, 1, 0, 0, 0, 1],
    dataType: 'float32',
  });

  it('turns whole-valued float labels into the smallest integer array', () => {
    const out = toIntegerLabels(volume(Float32Array.from([0, 1, 2, 2])), 'l.nii.gz');
    expect(out.data).toBeInstanceOf(Uint8Array);
    expect([...out.data]).toEqual([0, 1, 2, 2]);
    expect(toIntegerLabels(volume(Float32Array.from([0, 300])), 'l.nii.gz').data).toBeInstanceOf(Uint16Array);
    expect(toIntegerLabels(volume(Float64Array.from([-1, 3])), 'l.nii.gz').data).toBeInstanceOf(Int16Array);
  });

  it('refuses a label map with fractional values, naming the file', () => {
    expect(() => toIntegerLabels(volume(Float32Array.from([0, 0.5])), 'labelsTr/l.nii.gz')).toThrow(
      /labelsTr\/l\.nii\.gz/,
    );
  });
});

describe('grid comparison', () => {
  const base: Grid = {
    shape: [8, 8, 4],
    spacing: [1, 1, 2.5],
    origin: [10, -20, 30],
    direction: [1, 0, 0, 0, 1, 0, 0, 0, 1],
  };
  it('accepts float32 rounding of spacing and origin', () => {
    expect(
      gridDifferences(base, { ...base, spacing: [1.0000001, 1, 2.5000002], origin: [10.00001, -20, 30] }),
    ).toEqual([]);
  });

  it('names each differing property with its tolerance', () => {
    const d = gridDifferences(base, {
      shape: [8, 8, 5],
      spacing: [1, 1, 2.6],
      origin: [10.5, -20, 30],
      direction: [-1, 0, 0, 0, 1, 0, 0, 0, 1],
    });
    expect(d).toHaveLength(4);
    expect(d[0]).toMatch(/shape 8 x 8 x 5 instead of the image's 8 x 8 x 4/);
    expect(d[1]).toMatch(/spacing .*tolerance 0.1 %/);
    expect(d[2]).toMatch(/origin \(10.5, -20, 30\).*tolerance 0.01 mm/);
    expect(d[3]).toMatch(/direction/);
  });
});

describe('junk names', () => {
  it('skips macOS companions but not real files', () => {
    expect(isJunkName('._hippocampus_001.nii.gz')).toBe(true);
    expect(isJunkName('.DS_Store')).toBe(true);
    expect(isJunkName('__MACOSX')).toBe(true);
    expect(isJunkName('hippocampus_001.nii.gz')).toBe(false);
  });
});

describe('summary', () => {
  it('counts usable, test and broken cases and spreads shapes per axis', () => {
    const c = (id: string, ok: boolean, subset: 'train' | 'test', shape?: [number, number, number]) => ({
      id,
      patient: id,
      subset,
      image: `/d/${id}`,
      ...(subset === 'train' ? { label: `/d/l_${id}` } : {}),
      ...(shape ? { shape, spacing: [1, 1, 1] as [number, number, number] } : {}),
      ok,
      problems: ok ? [] : [{ message: 'broken', file: `/d/${id}` }],
    });
    const s = summarizeDataset({
      kind: 'msd',
      root: '/d',
      name: 'x',
      labels: { 0: 'background' },
      cases: [
        c('a', true, 'train', [30, 40, 20]),
        c('b', true, 'train', [34, 48, 28]),
        c('c', false, 'train'),
        c('t', true, 'test', [32, 44, 24]),
      ],
      problems: [{ message: 'x', file: '/d/dataset.json' }],
    });
    expect(s).toMatchObject({ cases: 4, usable: 2, test: 1, broken: 1, problems: 2 });
    expect(s.shape).toEqual({ min: [30, 40, 20], median: [32, 44, 24], max: [34, 48, 28] });
  });
});

describe('label value problems', () => {
  it('lists at most ten undeclared values, so a swapped image and label map gives a short message', () => {
    const data = Int16Array.from({ length: 40 }, (_, i) => i);
    const problems = labelValueProblems(
      {
        data,
        shape: [40, 1, 1],
        spacing: [1, 1, 1],
        origin: [0, 0, 0],
        direction: [1, 0, 0, 0, 1, 0, 0, 0, 1],
        dataType: 'int16',
      },
      { 0: 'background', 1: 'prostate' },
      '/d',
      '/d/Case00_segmentation.mhd',
    );
    expect(problems).toEqual([
      {
        message:
          'Case00_segmentation.mhd holds label values 2, 3, 4, 5, 6, 7, 8, 9, 10, 11 and 28 more that the label table does not declare (0 background, 1 prostate).',
        file: '/d/Case00_segmentation.mhd',
      },
    ]);
  });
});
