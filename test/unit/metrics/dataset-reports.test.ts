import { describe, expect, it } from 'vitest';
import type { Mat3 } from '../../../core/io/volume.ts';
import { acdcReport, type AcdcCase } from '../../../core/metrics/acdc.ts';
import { decathlonReport } from '../../../core/metrics/decathlon.ts';
import type { LabelMetrics } from '../../../core/metrics/label-metrics.ts';
import { apexAndBase, promise12Regions, promise12Report } from '../../../core/metrics/promise12.ts';
import { block, grid } from './helpers.ts';

function volumes(reference: number, prediction: number, dice = 0.9, hd = 5): LabelMetrics {
  return {
    dice,
    jaccard: 0,
    sensitivity: 0,
    precision: 0,
    volumeReference: reference,
    volumePrediction: prediction,
    arvd: 0,
    hd,
    hd95: hd,
    assd: 1,
    nsd: 1,
    empty: 'none',
  };
}

function cardiac(
  patient: string,
  phase: 'ED' | 'ES',
  rv: [number, number],
  myo: [number, number],
  lv: [number, number],
): AcdcCase {
  return {
    id: `${patient}_${phase}`,
    patient,
    phase,
    structures: {
      RV: volumes(...rv),
      Myo: volumes(...myo),
      LV: volumes(...lv, phase === 'ED' ? 0.95 : 0.85),
    },
  };
}

describe('ACDC report', () => {
  const cases: AcdcCase[] = [
    cardiac('patient001', 'ED', [120, 100], [80, 90], [100, 110]),
    cardiac('patient001', 'ES', [60, 60], [85, 85], [40, 44]),
    cardiac('patient002', 'ED', [100, 100], [100, 95], [150, 140]),
    cardiac('patient002', 'ES', [50, 50], [100, 100], [100, 100]),
    cardiac('patient003', 'ED', [100, 100], [100, 95], [150, 140]),
    { id: 'patient004_frame05', patient: 'patient004', structures: {} },
  ];
  const report = acdcReport(cases);

  it('summarises Dice and HD per structure and phase', () => {
    expect(report.perPhase.ED.LV.dice.n).toBe(3);
    expect(report.perPhase.ED.LV.dice.mean).toBeCloseTo(0.95, 12);
    expect(report.perPhase.ES.LV.dice.n).toBe(2);
    expect(report.perPhase.ES.LV.dice.mean).toBeCloseTo(0.85, 12);
    expect(report.perPhase.ED.Myo.hd.mean).toBe(5);
  });

  it('derives EDV, ESV, ejection fraction and myocardial mass at 1.05 g/ml with their errors', () => {
    const p1 = report.clinical.perPatient.find((p) => p.patient === 'patient001')!.indices;
    expect(p1.lvEdv).toEqual({ reference: 100, prediction: 110, error: 10 });
    expect(p1.lvEf.reference).toBeCloseTo(60, 12);
    expect(p1.lvEf.prediction).toBeCloseTo(60, 12);
    expect(p1.rvEf.reference).toBeCloseTo(50, 12);
    expect(p1.rvEf.prediction).toBeCloseTo(40, 12);
    expect(p1.rvEf.error).toBeCloseTo(-10, 12);
    expect(p1.myoMass.reference).toBeCloseTo(84, 12);
    expect(p1.myoMass.prediction).toBeCloseTo(94.5, 12);
    const p2 = report.clinical.perPatient.find((p) => p.patient === 'patient002')!.indices;
    expect(p2.lvEf.prediction).toBeCloseTo((100 * 40) / 140, 12);
  });

  it('reports agreement (bias, limits, correlation) over patients with both phases', () => {
    const lvEdv = report.clinical.agreement.lvEdv;
    expect(lvEdv).toMatchObject({ unit: 'ml', n: 2, bias: 0, meanAbsoluteError: 10 });
    expect(lvEdv.std).toBeCloseTo(Math.sqrt(200), 12);
    expect(lvEdv.limitsOfAgreement[1]).toBeCloseTo(1.96 * Math.sqrt(200), 12);
    expect(lvEdv.correlation).toBeCloseTo(1, 12);
    expect(report.clinical.agreement.myoMass.bias).toBeCloseTo((10.5 - 5.25) / 2, 12);
    expect(report.patientsWithoutBothPhases).toEqual(['patient003', 'patient004']);
    expect(report.casesWithoutPhase).toEqual(['patient004_frame05']);
  });
});

describe('PROMISE12 regions', () => {
  const shape: [number, number, number] = [6, 6, 9];
  const spacing: [number, number, number] = [0.5, 0.5, 3];
  const up: Mat3 = [1, 0, 0, 0, 1, 0, 0, 0, 1];
  const down: Mat3 = [1, 0, 0, 0, 1, 0, 0, 0, -1];
  const reference = grid(shape, spacing, block([2, 2, 1], [3, 3, 7]));
  // The prediction misses the gland's lowest slice (k = 1).
  const prediction = grid(shape, spacing, block([2, 2, 2], [3, 3, 7]));

  it('takes thirds of the ground truth slice extent, apex inferior', () => {
    expect(apexAndBase(reference.data, shape, up)).toEqual({ axis: 2, apex: [1, 2], base: [6, 7] });
    expect(apexAndBase(reference.data, shape, down)).toEqual({ axis: 2, apex: [6, 7], base: [1, 2] });
  });

  it('scores the apex on its own slices, with distances along the 3 mm slice axis', () => {
    const r = promise12Regions({ ...reference, direction: up }, prediction, { hd95: 'pooled', tau: 1 });
    expect(r.whole.dice).toBeCloseTo(12 / 13, 12);
    expect(r.base.dice).toBe(1);
    expect(r.apex.dice).toBeCloseTo(2 / 3, 12);
    expect(r.apex.hd).toBeCloseTo(3, 12);
    expect(r.apex.hd95).toBeCloseTo(3, 12);
    expect(r.apex.assd).toBeCloseTo(1, 12);
    expect(r.apex.arvd).toBeCloseTo(50, 12);
    const flipped = promise12Regions({ ...reference, direction: down }, prediction, {
      hd95: 'pooled',
      tau: 1,
    });
    expect(flipped.apex.dice).toBe(1);
    expect(flipped.base.dice).toBeCloseTo(2 / 3, 12);
  });

  it('falls back to the whole image for apex and base when the gland is absent', () => {
    const empty = grid(shape, spacing);
    const r = promise12Regions({ ...empty, direction: up }, prediction, { hd95: 'pooled', tau: 1 });
    expect(r.apex).toEqual(r.whole);
    expect(r.apex.empty).toBe('reference');
    const report = promise12Report([{ id: 'Case00', regions: r }]);
    expect(report.summary.apex.dice.mean).toBe(0);
    expect(report.regionDefinition).toContain('round(N/3)');
  });
});

describe('Decathlon report', () => {
  it('stores tau beside Dice and surface Dice per label', () => {
    const report = decathlonReport(
      [
        { id: 'a', structures: { Anterior: { ...volumes(1, 1, 0.8), nsd: 0.9 } } },
        { id: 'b', structures: { Anterior: { ...volumes(1, 1, 0.6), nsd: 0.7 } } },
      ],
      ['Anterior'],
      1.5,
    );
    expect(report.tau).toBe(1.5);
    expect(report.perLabel.Anterior!.dice.mean).toBeCloseTo(0.7, 12);
    expect(report.perLabel.Anterior!.nsd.mean).toBeCloseTo(0.8, 12);
  });
});
