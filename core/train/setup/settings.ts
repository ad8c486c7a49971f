// Runs in: any process (no tfjs). The training settings every candidate trains with, as the reference
// trains (its augmentation, early stopping, learning-rate plateau and objectives), whoever trains it:
// `emonas train`, a search's candidates on any executor, `emonas finalize`.
import { DEFAULT_AUGMENTATION } from '../../datasets/pipeline/augment.ts';
import type { Shape3 } from '../../datasets/pipeline/grid.ts';
import type { TrainSettings } from '../job.ts';
import { REFERENCE_OBJECTIVES } from '../objectives.ts';
import { REFERENCE_EARLY_STOPPING, REFERENCE_PLATEAU } from '../schedule.ts';
import { TRAIN_DEFAULTS } from './defaults.ts';

/** What a user chooses of the training; the rest is the reference's. */
export interface SettingsChoice {
  epochs: number;
  stepsPerEpoch: number;
  batchSize: number;
  patch: Shape3;
  seed: number;
  /** 0: no time limit. */
  maxMinutes: number;
  /** f1's alpha and beta (a search's objective); the reference's by default. */
  objective?: { alpha: number; beta: number };
}

/** The reference's settings with the user's choices; f1's budget C is the epoch count. */
export function referenceSettings(choice: SettingsChoice): TrainSettings {
  const { epochs, maxMinutes } = choice;
  return {
    epochs,
    stepsPerEpoch: choice.stepsPerEpoch,
    batchSize: choice.batchSize,
    patch: [...choice.patch],
    seed: choice.seed,
    foregroundProbability: TRAIN_DEFAULTS.foregroundProbability,
    augmentation: DEFAULT_AUGMENTATION,
    earlyStopping: REFERENCE_EARLY_STOPPING,
    plateau: REFERENCE_PLATEAU,
    objectives: { ...REFERENCE_OBJECTIVES, ...choice.objective, budget: epochs },
    maxSeconds: maxMinutes === 0 ? null : maxMinutes * 60,
  };
}
