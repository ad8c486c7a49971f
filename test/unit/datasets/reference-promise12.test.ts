// Runs in: the vitest worker. The reference PROMISE12 preprocessing and split (method.md 6.1) on synthetic
// volumes against hand-computed values, the resampling against scipy, and the fixed validation list
// against an independent MT19937 implementation of numpy's RandomState(0).permutation(50).
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { EmonasError } from '../../../core/base/errors.ts';
import type { CaseEntry, DatasetManifest } from '../../../core/datasets/case-table.ts';
import type { Grid, Shape3 } from '../../../core/datasets/pipeline/grid.ts';
import { computePlan, type PreprocessingPlan } from '../../../core/datasets/pipeline/plan.ts';
import {
  prepareCase,
  preprocessImage,
  restoreLabelMap,
  type CanonicalInput,
} from '../../../core/datasets/pipeline/preprocess.ts';
import { referencePromise12PlanOf } from '../../../core/datasets/pipeline/protocol-plan.ts';
import {
  REFERENCE_PROMISE12_PLAN,
  centreCropStart,
  cropGrid,
  normaliseSlices,
  referencePromise12Image,
  referencePromise12Mask,
  referenceResampledSize,
  resampleKeepingOrigin,
  rescaleToUnit,
  restoreReferencePromise12Labels,
  thresholdMask,
} from '../../../core/datasets/pipeline/reference-promise12.ts';
import {
  REFERENCE_PROMISE12_CASES,
  REFERENCE_PROMISE12_VALIDATION,
  referencePromise12Split,
} from '../../../core/datasets/pipeline/reference-split.ts';

const PYTHON = '/usr/bin/python3';

function line(values: number[], axis: number): Grid {
  const shape: Shape3 = [1, 1, 1];
  shape[axis] = values.length;
  return { data: Float32Array.from(values), shape };
}

describe('reference PROMISE12 intensity and mask steps', () => {
  it('rescales to [0, 1] and maps a constant image to 0', () => {
    expect([...rescaleToUnit(Int16Array.from([2, 4, 6, 3]))]).toEqual([0, 0.5, 1, 0.25]);
    expect([...rescaleToUnit([7, 7, 7])]).toEqual([0, 0, 0]);
  });

  it('thresholds masks strictly above 0.5', () => {
    expect([...thresholdMask([0, 0.5, 0.5001, 1, 2], 0.5)]).toEqual([0, 0, 1, 1, 1]);
  });
});

describe('reference PROMISE12 geometry', () => {
  it('sizes the resampled volume as max(floor(size * spacing / target), 128 x 128 x 64)', () => {
    const { spacing, volume } = REFERENCE_PROMISE12_PLAN;
    expect(referenceResampledSize([256, 256, 20], [0.625, 0.625, 3.6], spacing, volume)).toEqual([
      160, 160, 64,
    ]);
    // 141 * 0.95 = 133.95 is truncated; 24 * 4 / 1.5 = 64 exactly.
    expect(referenceResampledSize([141, 320, 24], [0.95, 0.4, 4], spacing, volume)).toEqual([133, 128, 64]);
  });

  it('starts the centre crop at floor(size / 2 - crop / 2)', () => {
    expect(centreCropStart([133, 160, 71], [128, 128, 64])).toEqual([2, 16, 3]);
    expect(centreCropStart([128, 128, 64], [128, 128, 64])).toEqual([0, 0, 0]);
  });

  it('resamples from the origin: last voxel repeated up to size - 0.5, zero from there on', () => {
    for (let axis = 0; axis < 3; axis++) {
      const spacing: Shape3 = [1, 1, 1];
      const halved: Shape3 = [1, 1, 1];
      halved[axis] = 0.5;
      const size: Shape3 = [1, 1, 1];
      size[axis] = 8;
      const up = resampleKeepingOrigin(line([0, 10, 20, 30], axis), spacing, halved, size);
      expect([...up.data]).toEqual([0, 5, 10, 15, 20, 25, 30, 0]);
      const fine: Shape3 = [1, 1, 1];
      fine[axis] = 0.4;
      size[axis] = 10;
      // Input index 0.4 x o: 3.2 (between the last centre and the border) repeats 30; 3.6 is outside.
      const near = resampleKeepingOrigin(line([0, 10, 20, 30], axis), spacing, fine, size);
      expect(Array.from(near.data, (v) => Math.round(v * 1e4) / 1e4)).toEqual([
        0, 4, 8, 12, 16, 20, 24, 28, 30, 0,
      ]);
      const coarse: Shape3 = [1, 1, 1];
      coarse[axis] = 2;
      size[axis] = 3;
      expect([...resampleKeepingOrigin(line([0, 10, 20, 30], axis), spacing, coarse, size).data]).toEqual([
        0, 20, 0,
      ]);
    }
  });

  it('crops the block at the start it is given', () => {
    const shape: Shape3 = [4, 5, 6];
    const grid: Grid = { data: Float32Array.from({ length: 120 }, (_, i) => i), shape };
    const crop = cropGrid(grid, [1, 2, 3], [2, 2, 2]);
    expect(crop.shape).toEqual([2, 2, 2]);
    expect([...crop.data]).toEqual([45, 46, 51, 52, 75, 76, 81, 82]);
    expect(() => cropGrid(grid, [3, 0, 0], [2, 2, 2])).toThrow(EmonasError);
  });

  it('agrees with scipy.ndimage.map_coordinates (order 1) on a random volume', () => {
    const probe = spawnSync(PYTHON, ['-c', 'import numpy, scipy.ndimage'], { encoding: 'utf8' });
    expect(
      probe.status,
      `needs ${PYTHON} with numpy and scipy (CI installs python3-scipy): ${probe.stderr}`,
    ).toBe(0);
    const shape: Shape3 = [23, 17, 11];
    const data = Float32Array.from({ length: 23 * 17 * 11 }, (_, i) => Math.sin(i * 0.37) * 50 + (i % 7));
    const spacing: Shape3 = [0.7, 1.3, 2.9];
    const target: Shape3 = [1, 1, 1.5];
    const size = referenceResampledSize(shape, spacing, target, [20, 30, 24]);
    // The minimum pads axes 1 and 2 past the input's extent, so the zero region is exercised too.
    expect(size).toEqual([20, 30, 24]);
    const ours = resampleKeepingOrigin({ data, shape }, spacing, target, size);
    const script = `
import json, sys, numpy as np
from scipy.ndimage import map_coordinates
a = json.load(sys.stdin)
vol = np.array(a['data'], dtype=np.float32).reshape(a['shape']).astype(np.float64)
size, step = a['size'], [t / s for t, s in zip(a['target'], a['spacing'])]
grids = np.meshgrid(*[np.arange(n) * st for n, st in zip(size, step)], indexing='ij')
out = map_coordinates(vol, grids, order=1, mode='nearest')
inside = np.ones(size, dtype=bool)
for g, n in zip(grids, vol.shape): inside &= g < n - 0.5
print(json.dumps(np.where(inside, out, 0).ravel().tolist()))`;
    const r = spawnSync(PYTHON, ['-c', script], {
      input: JSON.stringify({ data: [...data], shape, size, spacing, target }),
      encoding: 'utf8',
      maxBuffer: 64 * 1024 * 1024,
    });
    expect(r.status, r.stderr).toBe(0);
    const theirs = JSON.parse(r.stdout) as number[];
    expect(theirs).toHaveLength(ours.data.length);
    let zeros = 0;
    let worst = 0;
    for (let i = 0; i < theirs.length; i++) {
      if (theirs[i] === 0) zeros++;
      worst = Math.max(worst, Math.abs((theirs[i] as number) - (ours.data[i] as number)));
    }
    expect(zeros).toBeGreaterThan(1000);
    // Our output is float32: values up to ~57 round to within 4e-6.
    expect(worst).toBeLessThan(1e-5);
  });
});

describe('reference per-slice normalisation', () => {
  it('clips each slice to mean +- 3 std, then scales it to [0, 1]; a constant slice becomes 0', () => {
    // A 10 x 10 x 2 grid: slice 0 has 98 zeros, one 10 and one 100; slice 1 is constant 5.
    const data = new Float32Array(200).fill(5);
    for (let p = 0; p < 100; p++) data[p * 2] = 0;
    data[7 * 2] = 10;
    data[42 * 2] = 100;
    const out = normaliseSlices({ data, shape: [10, 10, 2] }, 3, 1e-100);
    const mean = 110 / 100;
    const high = mean + 3 * Math.sqrt((10 * 10 + 100 * 100) / 100 - mean * mean);
    expect(high).toBeCloseTo(31.0685, 3);
    expect(out.data[7 * 2]).toBeCloseTo(10 / high, 6);
    expect(out.data[42 * 2]).toBe(1);
    expect(out.data[0]).toBe(0);
    for (let p = 0; p < 100; p++) expect(out.data[p * 2 + 1]).toBe(0);
  });
});

function input(
  shape: Shape3,
  spacing: Shape3,
  value: (i: number, j: number, k: number) => number,
): CanonicalInput {
  const data = new Float32Array(shape[0] * shape[1] * shape[2]);
  for (let k = 0; k < shape[2]; k++) {
    for (let j = 0; j < shape[1]; j++) {
      for (let i = 0; i < shape[0]; i++) data[i + shape[0] * (j + shape[1] * k)] = value(i, j, k);
    }
  }
  return { data, shape, spacing };
}

describe('the whole reference PROMISE12 case, through the plan training and prediction use', () => {
  // 70 x 64 x 43 voxels at 2 x 2 x 3 mm resample to 140 x 128 x 86 (input index o / 2 on every axis);
  // the crop starts at (6, 0, 11); the grid is (y, x, z).
  const shape: Shape3 = [70, 64, 43];
  const spacing: Shape3 = [2, 2, 3];
  const planFor = (s: Shape3, mm: Shape3): PreprocessingPlan => {
    const plan = referencePromise12PlanOf(
      computePlan([{ shape: s, spacing: mm }], {
        dataset: 'PROMISE12',
        labels: { 0: 'background', 1: 'prostate' },
      }),
    );
    expect(plan.reference).toEqual(REFERENCE_PROMISE12_PLAN);
    return plan;
  };
  const oneHot = (label: Uint8Array): Float32Array => {
    const probabilities = new Float32Array(2 * label.length);
    label.forEach((v, n) => {
      probabilities[v === 1 ? label.length + n : n] = 1;
    });
    return probabilities;
  };
  const nonZero = (data: Uint8Array): number[] => {
    const on: number[] = [];
    data.forEach((v, n) => {
      if (v !== 0) on.push(n);
    });
    return on;
  };

  it('keeps a label block, thresholded before and after resampling, where the hand computation puts it', () => {
    // Label value 2 on i 40..41, j 30, k 20: thresholded to 1 first, so the half-way voxels are 0.5 (out).
    const label = input(shape, spacing, (i, j, k) => (i >= 40 && i <= 41 && j === 30 && k === 20 ? 2 : 0));
    const image = input(shape, spacing, (i) => i);
    const c = prepareCase('Case00', image, label, planFor(shape, spacing), 'seg.mhd');
    expect(c.label.shape).toEqual([128, 128, 64]);
    expect(c.image.shape).toEqual([128, 128, 64]);
    // Resampled x 80, 81, 82 minus 6; y 60; z 40 minus 11.
    const at = (y: number, x: number, z: number): number => (y * 128 + x) * 64 + z;
    const on = nonZero(c.label.data);
    expect(on).toEqual([at(60, 74, 29), at(60, 75, 29), at(60, 76, 29)]);
    expect([...c.foreground[1]!]).toEqual(on);
    expect([...referencePromise12Mask(label, 'seg.mhd').data]).toEqual([...c.label.data]);
  });

  it('gives an x ramp that is zero past the input extent and spans [0, 1] on every slice', () => {
    // At 1.5 mm in x the ramp i / 69 covers output x up to 104 (input index 69.33 < 69.5); 105+ is 0.
    // In y, output 127 reads input index 63.5, the border of the 64 rows itself: outside, so 0.
    const image = input(shape, [1.5, 2, 3], (i) => i + 100);
    const grid = referencePromise12Image(image, 'Case00.mhd');
    expect(grid.shape).toEqual([128, 128, 64]);
    const v = (y: number, x: number, z: number): number => grid.data[(y * 128 + x) * 64 + z] as number;
    for (const z of [0, 31, 63]) {
      for (let x = 0; x < 128; x++) expect(v(127, x, z)).toBe(0);
      for (const y of [0, 64, 126]) {
        expect(v(y, 0, z)).toBe(0);
        expect(v(y, 104, z)).toBe(1);
        expect(v(y, 105, z)).toBe(0);
        expect(v(y, 30, z) / v(y, 60, z)).toBeCloseTo(0.5, 5);
      }
    }
  });

  it('maps a prediction back onto the file grid: the block where it was, background outside the crop', () => {
    // A second block at i = 1 resamples to x = 2, before the crop's start at 6: it cannot come back.
    const label = input(shape, spacing, (i, j, k) =>
      ((i >= 40 && i <= 41) || i === 1) && j === 30 && k === 20 ? 1 : 0,
    );
    const image = input(shape, spacing, (i) => i);
    const plan = planFor(shape, spacing);
    const c = prepareCase('Case00', image, label, plan, 'seg.mhd');
    const back = restoreLabelMap(oneHot(c.label.data), preprocessImage(image, plan).record, plan);
    expect(back.shape).toEqual(shape);
    const at = (i: number, j: number, k: number): number => i + shape[0] * (j + shape[1] * k);
    expect(nonZero(back.data)).toEqual([at(40, 30, 20), at(41, 30, 20)]);
  });

  it('restores the exact map when the case is already 128 x 128 x 64 at 1 x 1 x 1.5 mm', () => {
    const grid: Shape3 = [128, 128, 64];
    const mm: Shape3 = [1, 1, 1.5];
    const label = input(grid, mm, (i, j, k) => ((i * 7 + j * 3 + k) % 5 === 0 ? 1 : 0));
    const image = input(grid, mm, (i) => i);
    const plan = planFor(grid, mm);
    const c = prepareCase('Case01', image, label, plan, 'b.mhd');
    const back = restoreLabelMap(oneHot(c.label.data), preprocessImage(image, plan).record, plan);
    let ones = 0;
    let differing = 0;
    for (let n = 0; n < label.data.length; n++) {
      if (back.data[n] !== label.data[n]) differing++;
      ones += back.data[n] as number;
    }
    expect(differing).toBe(0);
    expect(ones).toBeGreaterThan(100_000);
    expect(() => restoreReferencePromise12Labels(new Float32Array(10), { shape: grid, spacing: mm })).toThrow(
      /not a whole number/,
    );
  });

  it('refuses a label map on another grid and a non-positive spacing, naming the file', () => {
    const image = input([4, 4, 4], [1, 1, 1], () => 1);
    const label = input([4, 4, 3], [1, 1, 1], () => 0);
    expect(() => prepareCase('Case01', image, label, planFor([4, 4, 4], [1, 1, 1]), 'b.mhd')).toThrow(
      /b\.mhd has 4 x 4 x 3 voxels/,
    );
    expect(() =>
      referencePromise12Image(
        input([4, 4, 4], [1, 0, 1], () => 1),
        'a.mhd',
      ),
    ).toThrow(/a\.mhd has spacing/);
  });
});

/** numpy's legacy RandomState(seed).permutation(n): MT19937 init_genrand, then a Fisher-Yates shuffle
 * from the end drawing j with numpy's masked rejection sampling (random_interval). */
function numpyLegacyPermutation(seed: number, n: number): number[] {
  const mt = new Uint32Array(624);
  mt[0] = seed >>> 0;
  for (let i = 1; i < 624; i++) {
    const prev = mt[i - 1] as number;
    mt[i] = (Math.imul(1812433253, prev ^ (prev >>> 30)) + i) >>> 0;
  }
  let pos = 624;
  const next = (): number => {
    if (pos >= 624) {
      for (let i = 0; i < 624; i++) {
        const y = ((mt[i] as number) & 0x80000000) | ((mt[(i + 1) % 624] as number) & 0x7fffffff);
        mt[i] = ((mt[(i + 397) % 624] as number) ^ (y >>> 1) ^ (y & 1 ? 0x9908b0df : 0)) >>> 0;
      }
      pos = 0;
    }
    let y = mt[pos++] as number;
    y ^= y >>> 11;
    y ^= (y << 7) & 0x9d2c5680;
    y ^= (y << 15) & 0xefc60000;
    y ^= y >>> 18;
    return y >>> 0;
  };
  const out = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    let mask = i;
    for (const s of [1, 2, 4, 8, 16]) mask |= mask >>> s;
    let j: number;
    do j = (next() & mask) >>> 0;
    while (j > i);
    [out[i], out[j]] = [out[j] as number, out[i] as number];
  }
  return out;
}

function promise12(ids: string[], change: (c: CaseEntry) => CaseEntry = (c) => c): DatasetManifest {
  const entry = (id: string, subset: 'train' | 'test'): CaseEntry => ({
    id: subset === 'test' ? `test/${id}` : id,
    patient: id,
    subset,
    image: `/data/${id}.mhd`,
    ...(subset === 'train' ? { label: `/data/${id}_segmentation.mhd` } : {}),
    ok: true,
    problems: [],
  });
  return {
    kind: 'promise12',
    root: '/data/promise12',
    name: 'PROMISE12',
    labels: { 0: 'background', 1: 'prostate' },
    cases: [...ids.map((id) => change(entry(id, 'train'))), entry('Case00', 'test'), entry('Case01', 'test')],
    problems: [],
  };
}

describe('the reference PROMISE12 split', () => {
  it('is the sorted first 10 of RandomState(0).permutation(50) (method.md 6.1 step 6)', () => {
    const permutation = numpyLegacyPermutation(0, 50);
    // The MT19937 port's known output: numpy 1.24 prints [28 11 10 41 2 27 38 31 22 4] for the first 10.
    expect(permutation.slice(0, 10)).toEqual([28, 11, 10, 41, 2, 27, 38, 31, 22, 4]);
    const derived = permutation
      .slice(0, 10)
      .sort((a, b) => a - b)
      .map((i) => `Case${String(i).padStart(2, '0')}`);
    expect(REFERENCE_PROMISE12_VALIDATION).toEqual(derived);
    expect(REFERENCE_PROMISE12_PLAN.validation).toEqual(derived);
  });

  it('validates on the 10 and trains on the other 40 of Case00..Case49, holding nothing out', () => {
    const split = referencePromise12Split(promise12([...REFERENCE_PROMISE12_CASES].reverse()));
    expect(split.val).toEqual(REFERENCE_PROMISE12_VALIDATION);
    expect(split.train).toHaveLength(40);
    expect(split.train.some((id) => split.val.includes(id))).toBe(false);
    expect([...split.train, ...split.val].sort()).toEqual(REFERENCE_PROMISE12_CASES);
    expect(split.test).toEqual([]);
    expect(split.valFraction).toBe(0.2);
  });

  it('names every missing, unusable and unexpected case instead of splitting another way', () => {
    const ids = REFERENCE_PROMISE12_CASES.filter((id) => id !== 'Case07' && id !== 'Case41');
    const manifest = promise12([...ids, 'Case50'], (c) =>
      c.id === 'Case13'
        ? { ...c, ok: false, problems: [{ message: 'Case13.raw is truncated.', file: c.image }] }
        : c,
    );
    let error: unknown;
    try {
      referencePromise12Split(manifest);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(EmonasError);
    const e = error as EmonasError;
    expect(e.code).toBe('invalid_dataset');
    expect(e.file).toBe('/data/promise12');
    expect(e.message).toContain('missing Case07, Case41');
    expect(e.message).toContain('unusable Case13 (Case13.raw is truncated.)');
    expect(e.message).toContain("not in the reference's list Case50");
  });

  it('refuses a dataset that is not PROMISE12', () => {
    const manifest = { ...promise12([...REFERENCE_PROMISE12_CASES]), kind: 'msd' as const };
    expect(() => referencePromise12Split(manifest)).toThrow(/PROMISE12 only/);
  });
});
