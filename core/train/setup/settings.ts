// Runs in: any process (no tfjs). The training settings every candidate trains with, as the reference
// trains (its early stopping, learning-rate plateau and objectives) with the patches and augmentation of the
// chosen protocol (protocol.ts), whoever trains it: `emonas train`, a search's candidates on any executor,
// `emonas finalize`.
import type { Shape3 } from '../../datasets/pipeline/grid.ts';
import { DEFAULT_PROTOCOL, type TrainingProtocol } from '../../base/training-protocol.ts';
import type { TrainSettings } from '../job.ts';
import { REFERENCE_OBJECTIVES } from '../objectives.ts';
import { REFERENCE_EARLY_STOPPING, REFERENCE_PLATEAU } from '../schedule.ts';
import { withProtocol } from './protocol.ts';

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
  /** 'emonas' (the default) or 'reference' (protocol.ts). */
  protocol?: TrainingProtocol;
}

/** The reference's settings with the user's choices under their protocol; f1's budget C is the epoch count. */
export function referenceSettings(choice: SettingsChoice): TrainSettings {
  const { epochs, maxMinutes } = choice;
  return withProtocol(
    {
      epochs,
      stepsPerEpoch: choice.stepsPerEpoch,
      batchSize: choice.batchSize,
      patch: [...choice.patch],
      seed: choice.seed,
      earlyStopping: REFERENCE_EARLY_STOPPING,
      plateau: REFERENCE_PLATEAU,
      objectives: { ...REFERENCE_OBJECTIVES, ...choice.objective, budget: epochs },
      maxSeconds: maxMinutes === 0 ? null : maxMinutes * 60,
    },
    choice.protocol ?? DEFAULT_PROTOCOL,
  );
}
