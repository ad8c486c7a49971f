import { describe, expect, it } from 'vitest';
import { computeObjectives, REFERENCE_OBJECTIVES, worstF1 } from '../../../core/train/objectives.ts';
import {
  EarlyStopping,
  LearningRatePlateau,
  REFERENCE_EARLY_STOPPING,
  REFERENCE_PLATEAU,
} from '../../../core/train/schedule.ts';

describe('objectives f1 and f2 (method.md section 3)', () => {
  it('averages the last 5 epochs and penalises an early best epoch', () => {
    const epochs = [0.9, 0.5, 0.3, 0.35, 0.4, 0.45, 0.5, 0.55].map((v, e) => ({
      valLoss: v,
      trainLoss: 0.8 - e * 0.05,
    }));
    const o = computeObjectives(epochs, 5153, REFERENCE_OBJECTIVES);
    const lastVal = (0.35 + 0.4 + 0.45 + 0.5 + 0.55) / 5;
    const lastTrain = (0.65 + 0.6 + 0.55 + 0.5 + 0.45) / 5;
    expect(o.bestEpoch).toBe(2);
    expect(o.valLoss).toBeCloseTo(lastVal, 12);
    expect(o.trainLoss).toBeCloseTo(lastTrain, 12);
    expect(o.f1).toBeCloseTo(lastVal + 0.25 * lastTrain + (0.25 * (120 - 2)) / 120, 12);
    expect(o.f2).toBeCloseTo(8.5473, 4);
  });

  it('uses every epoch when fewer than 5 ran, and the first of tied best epochs', () => {
    const epochs = [
      { valLoss: 0.4, trainLoss: 0.5 },
      { valLoss: 0.4, trainLoss: 0.3 },
    ];
    const o = computeObjectives(epochs, 100, { alpha: 0.25, beta: 0.25, budget: 10, window: 5 });
    expect(o.bestEpoch).toBe(0);
    expect(o.f1).toBeCloseTo(0.4 + 0.25 * 0.4 + 0.25, 12);
  });

  it('counts only the epochs run after the best one when the time limit stopped the training', () => {
    const improving = [0.9, 0.7, 0.5].map((v) => ({ valLoss: v, trainLoss: v }));
    const settings = { alpha: 0.25, beta: 0.25, budget: 6, window: 5 };
    const terms = (cut: boolean): number => {
      const o = computeObjectives(improving, 100, settings, cut);
      return o.f1 - o.valLoss - 0.25 * o.trainLoss;
    };
    // Still improving when stopped: the term of a network improving at the end of its budget.
    expect(terms(true)).toBeCloseTo((0.25 * 1) / 6, 12);
    // Without the cut, the three epochs never run count as epochs without improvement.
    expect(terms(false)).toBeCloseTo((0.25 * (6 - 2)) / 6, 12);
    const worse = [0.9, 0.5, 0.7].map((v) => ({ valLoss: v, trainLoss: v }));
    const o = computeObjectives(worse, 100, settings, true);
    expect(o.bestEpoch).toBe(1);
    expect(o.f1 - o.valLoss - 0.25 * o.trainLoss).toBeCloseTo((0.25 * (3 - 1)) / 6, 12);
  });

  it('gives a diverged run the normalisation bound 1 + alpha + beta, never 1000', () => {
    expect(worstF1(REFERENCE_OBJECTIVES)).toBe(1.5);
    const o = computeObjectives([{ valLoss: NaN, trainLoss: NaN }], 1000, REFERENCE_OBJECTIVES);
    expect(o.f1).toBe(1.5);
    expect(computeObjectives([], 1000, REFERENCE_OBJECTIVES).f1).toBe(1.5);
  });
});

describe('Keras-style schedules', () => {
  it('stops early after patience epochs without an improvement larger than min_delta', () => {
    const stop = new EarlyStopping(REFERENCE_EARLY_STOPPING);
    expect(stop.update(0.5)).toBe(false);
    // Improvements of at most 0.001 do not count.
    for (let e = 1; e < 20; e++) expect(stop.update(0.5 - e * 0.00005)).toBe(false);
    expect(stop.update(0.499)).toBe(true);
    // The earliest stop is after 21 epochs, as method.md section 5.1 says.
    const fresh = new EarlyStopping(REFERENCE_EARLY_STOPPING);
    let epochs = 0;
    while (!fresh.update(1)) epochs++;
    expect(epochs + 1).toBe(21);
  });

  it('halves the learning rate after 30 flat training epochs, down to the floor', () => {
    const lr = new LearningRatePlateau(REFERENCE_PLATEAU, 4e-4);
    lr.update(0.5);
    for (let e = 0; e < 29; e++) expect(lr.update(0.5)).toBe(4e-4);
    expect(lr.update(0.5)).toBe(2e-4);
    expect(lr.update(0.3)).toBe(2e-4);
    const floor = new LearningRatePlateau({ ...REFERENCE_PLATEAU, patience: 1 }, 3e-7);
    floor.update(1);
    expect(floor.update(1)).toBeCloseTo(1.5e-7, 15);
    expect(floor.update(1)).toBe(1e-7);
    expect(floor.update(1)).toBe(1e-7);
  });
});
