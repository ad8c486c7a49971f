// Runs in: any process (no tfjs). The two objectives of a trained candidate, method.md section 3:
//   f1 = (1 - MCDice_val) + alpha (1 - MCDice_train) + beta (C - e_max) / C
//   f2 = ln(trainable parameters)
// with the Dice terms the means of the last 5 epochs actually run, e_max the 0-based epoch of the lowest
// validation loss and C the epoch budget (for a training its time limit stopped, see computeObjectives).
// MCDice is the soft Dice per foreground class averaged over the foreground classes, so every term lies in
// [0, 1] and f1 in [0, 1 + alpha + beta]: a diverged candidate gets exactly that bound (method.md section 0),
// never the reference's 1000.

export interface ObjectiveSettings {
  alpha: number;
  beta: number;
  /** C, the epoch budget of a candidate. */
  budget: number;
  /** How many of the last epochs the Dice terms average (E = 5). */
  window: number;
}

export const REFERENCE_OBJECTIVES: ObjectiveSettings = { alpha: 0.25, beta: 0.25, budget: 120, window: 5 };

export interface EpochLosses {
  /** 1 - MCDice over the epoch's training batches (running mean, as Keras logs it). */
  trainLoss: number;
  /** 1 - MCDice on the validation volumes. */
  valLoss: number;
}

export interface Objectives {
  f1: number;
  f2: number;
  /** Mean of the last `window` validation losses. */
  valLoss: number;
  /** Mean of the last `window` training losses. */
  trainLoss: number;
  /** e_max: 0-based epoch of the lowest validation loss (the first one on ties). */
  bestEpoch: number;
}

export function worstF1(s: Pick<ObjectiveSettings, 'alpha' | 'beta'>): number {
  return 1 + s.alpha + s.beta;
}

export function bestEpochOf(epochs: readonly EpochLosses[]): number {
  let best = 0;
  for (let e = 1; e < epochs.length; e++) {
    if ((epochs[e] as EpochLosses).valLoss < (epochs[best] as EpochLosses).valLoss) best = e;
  }
  return best;
}

/**
 * f1 and f2 of one training. `cutByTime`: its time limit stopped it (between epochs or within one). The
 * beta term is the epochs from the best one to the end of the budget, as a fraction of the budget: it
 * rewards a network still improving at the end. The epochs a time limit took away were no chance to improve
 * and are not counted, so the term counts the epochs run from the best one, (epochs run - e_max) / C, and a
 * network improving when it was stopped scores as one improving at the end of its budget. Counted, they made
 * f1 of a time-limited search rank the slower (larger) networks by their speed, not their error
 * (docs/method-deviations.md, item 9). The reference never stops a candidate on time: its f1 is unchanged.
 */
export function computeObjectives(
  epochs: readonly EpochLosses[],
  params: number,
  s: ObjectiveSettings,
  cutByTime = false,
): Objectives {
  const f2 = Math.log(params);
  if (epochs.length === 0) {
    return { f1: worstF1(s), f2, valLoss: 1, trainLoss: 1, bestEpoch: 0 };
  }
  const last = epochs.slice(-s.window);
  const mean = (pick: (e: EpochLosses) => number): number =>
    last.reduce((sum, e) => sum + pick(e), 0) / last.length;
  const valLoss = mean((e) => e.valLoss);
  const trainLoss = mean((e) => e.trainLoss);
  const bestEpoch = bestEpochOf(epochs);
  const end = cutByTime ? epochs.length : s.budget;
  const f1 = valLoss + s.alpha * trainLoss + (s.beta * (end - bestEpoch)) / s.budget;
  if (!Number.isFinite(f1)) return { f1: worstF1(s), f2, valLoss, trainLoss, bestEpoch };
  return { f1, f2, valLoss, trainLoss, bestEpoch };
}
