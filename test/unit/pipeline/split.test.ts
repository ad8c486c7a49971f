import { describe, expect, it } from 'vitest';
import type { CaseEntry } from '../../../core/datasets/case-table.ts';
import { splitByPatient } from '../../../core/datasets/pipeline/split.ts';
import { EmonasError } from '../../../core/base/errors.ts';

function acdcLike(patients: number): CaseEntry[] {
  const out: CaseEntry[] = [];
  for (let p = 1; p <= patients; p++) {
    for (const phase of ['ED', 'ES'] as const) {
      const id = `patient${String(p).padStart(3, '0')}_${phase}`;
      out.push({
        id,
        patient: `patient${p}`,
        phase,
        subset: 'train',
        image: `/d/${id}.nii.gz`,
        label: `/d/${id}_gt.nii.gz`,
        ok: true,
        problems: [],
      });
    }
  }
  return out;
}

describe('split by patient', () => {
  it('keeps both phases of a patient on the same side and uses every usable case once', () => {
    const cases = acdcLike(20);
    const split = splitByPatient(cases, { valFraction: 0.2, testFraction: 0.1, seed: 3 });
    expect(split.val).toHaveLength(8);
    expect(split.test).toHaveLength(4);
    expect(split.train).toHaveLength(28);
    const side = new Map<string, string>();
    for (const [name, ids] of [
      ['train', split.train],
      ['val', split.val],
      ['test', split.test],
    ] as const) {
      for (const id of ids) {
        const patient = id.split('_')[0] as string;
        expect(side.get(patient) ?? name).toBe(name);
        side.set(patient, name);
      }
    }
    expect(new Set([...split.train, ...split.val, ...split.test]).size).toBe(40);
  });

  it('is reproducible from its seed and changes with it', () => {
    const cases = acdcLike(30);
    const a = splitByPatient(cases, { valFraction: 0.2, testFraction: 0, seed: 1 });
    const b = splitByPatient([...cases].reverse(), { valFraction: 0.2, testFraction: 0, seed: 1 });
    const c = splitByPatient(cases, { valFraction: 0.2, testFraction: 0, seed: 2 });
    expect(b).toEqual(a);
    expect(c.val).not.toEqual(a.val);
  });

  it('leaves out broken, unlabelled and test-subset cases', () => {
    const cases = acdcLike(6);
    cases[0] = { ...cases[0]!, ok: false };
    cases[1] = { ...cases[1]!, subset: 'test' };
    const { label: _drop, ...unlabelled } = cases[2]!;
    cases[2] = unlabelled;
    const split = splitByPatient(cases, { valFraction: 0.3, testFraction: 0, seed: 0 });
    const all = [...split.train, ...split.val];
    expect(all).toHaveLength(9);
    expect(all).not.toContain(cases[0]!.id);
    expect(all).not.toContain(cases[1]!.id);
    expect(all).not.toContain(cases[2]!.id);
  });

  it('refuses fractions that leave nothing to train on, with a sentence', () => {
    const cases = acdcLike(3);
    expect(() => splitByPatient(cases, { valFraction: 0.5, testFraction: 0.5, seed: 0 })).toThrow(
      /leave some cases/,
    );
    expect(() => splitByPatient(acdcLike(2), { valFraction: 0.4, testFraction: 0.4, seed: 0 })).toThrow(
      EmonasError,
    );
    expect(() => splitByPatient(cases, { valFraction: 0, testFraction: 0, seed: 0 })).toThrow(
      /validation fraction/,
    );
    expect(() => splitByPatient(acdcLike(1), { valFraction: 0.2, testFraction: 0, seed: 0 })).toThrow(
      /at least 2 patients/,
    );
  });
});
