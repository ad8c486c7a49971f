import { describe, expect, it } from 'vitest';
import {
  computePlan,
  describePlan,
  planKey,
  type CaseGeometry,
} from '../../../core/datasets/pipeline/plan.ts';

const hippocampusLabels = { 0: 'background', 1: 'Anterior', 2: 'Posterior' };

describe('preprocessing plan', () => {
  it('plans hippocampus-sized cases at 1 mm without resampling, with a patch most of a case', () => {
    const cases: CaseGeometry[] = [
      { shape: [35, 50, 36], spacing: [1, 1, 1] },
      { shape: [43, 59, 47], spacing: [1, 1, 1] },
      { shape: [31, 40, 24], spacing: [1, 1, 1] },
    ];
    const plan = computePlan(cases, { dataset: 'Hippocampus', labels: hippocampusLabels });
    expect(plan.axisOrder).toEqual([0, 1, 2]);
    expect(plan.targetSpacing).toEqual([1, 1, 1]);
    expect(plan.maxShape).toEqual([43, 59, 47]);
    expect(plan.medianShape).toEqual([35, 50, 36]);
    // The whole largest case (48 x 64 x 48 rounded up) is above the CPU budget; the median case rounded
    // up is shrunk where it exceeds the median most.
    expect(plan.patch).toEqual([32, 48, 32]);
    expect(
      computePlan(cases, { dataset: 'H', labels: hippocampusLabels, maxPatchVoxels: 48 * 64 * 48 }).patch,
    ).toEqual([48, 64, 48]);
    expect(plan.head).toBe('softmax');
    expect(plan.labels.map((l) => l.name)).toEqual(['background', 'Anterior', 'Posterior']);
    expect(describePlan(plan).join('\n')).toContain('Patch 32 x 48 x 32');
  });

  it('resamples anisotropic data in-plane only and puts the thick axis last', () => {
    // ACDC-like after canonical orientation: the 10 mm axis is j here, to check it is moved last.
    const cases: CaseGeometry[] = [
      { shape: [200, 9, 220], spacing: [1.5, 10, 1.5] },
      { shape: [230, 10, 240], spacing: [1.3, 10, 1.3] },
      { shape: [210, 8, 210], spacing: [1.6, 5, 1.6] },
    ];
    const plan = computePlan(cases, { dataset: 'ACDC', labels: { 0: 'bg', 1: 'RV', 2: 'Myo', 3: 'LV' } });
    expect(plan.axisOrder).toEqual([0, 2, 1]);
    expect(plan.targetSpacing).toEqual([1.5, 1.5, null]);
    // Slice counts are kept as acquired.
    expect(plan.maxShape[2]).toBe(10);
    // 210 voxels at 1.6 mm are 224 at 1.5 mm; 230 at 1.3 mm are 199.
    expect(plan.maxShape[0]).toBe(224);
    expect(plan.patch.every((p) => p % 16 === 0)).toBe(true);
    expect(plan.patch[0] * plan.patch[1] * plan.patch[2]).toBeLessThanOrEqual(32 * 48 * 32);
    expect(plan.notes.join(' ')).toMatch(/slice axis .* kept/);
  });

  it('uses a sigmoid head for one foreground class, as the reference', () => {
    const plan = computePlan([{ shape: [64, 64, 20], spacing: [0.6, 0.6, 3.6] }], {
      dataset: 'PROMISE12',
      labels: { 0: 'background', 1: 'prostate' },
    });
    expect(plan.head).toBe('sigmoid');
    expect(plan.axisOrder).toEqual([0, 1, 2]);
  });

  it('shares a cache key across plans that differ only in patch', () => {
    const cases: CaseGeometry[] = [{ shape: [35, 50, 36], spacing: [1, 1, 1] }];
    const a = computePlan(cases, { dataset: 'H', labels: hippocampusLabels });
    const b = computePlan(cases, { dataset: 'H', labels: hippocampusLabels, maxPatchVoxels: 16 ** 3 });
    expect(b.patch).not.toEqual(a.patch);
    expect(planKey(b)).toBe(planKey(a));
    const c = computePlan([{ shape: [35, 50, 36], spacing: [1.2, 1, 1] }], {
      dataset: 'H',
      labels: hippocampusLabels,
    });
    expect(planKey(c)).not.toBe(planKey(a));
  });

  it('rejects label tables it cannot train on', () => {
    const cases: CaseGeometry[] = [{ shape: [8, 8, 8], spacing: [1, 1, 1] }];
    expect(() => computePlan(cases, { dataset: 'X', labels: { 0: 'background' } })).toThrow(
      /at least one foreground/,
    );
    expect(() => computePlan(cases, { dataset: 'X', labels: { 0: 'bg', 300: 'big' } })).toThrow(/0 to 255/);
    expect(() => computePlan([], { dataset: 'X', labels: hippocampusLabels })).toThrow(
      /no usable labelled case/,
    );
  });
});
