// Runs in: any process (no tfjs). What each training protocol trains with. 'emonas' (the default) is this
// project's training: patches of the plan's size with foreground oversampling and mild augmentation,
// validation on whole volumes, a final training of 1000 epochs with the run's schedule. 'reference' is the
// authors' implementation (method.md sections 5 and 6.3): uniform random slabs of 16 slices with the
// reference's heavy in-plane augmentation, validation as a batch Dice over the validation volumes' slabs,
// a final training of 6000 epochs at batch 4 with a constant learning rate and no early stopping, and
// prediction by slab windows at a stride of one slice, the largest component always kept.
import { DEFAULT_PROTOCOL, type TrainingProtocol } from '../../base/training-protocol.ts';
import { DEFAULT_AUGMENTATION, NO_AUGMENTATION } from '../../datasets/pipeline/augment.ts';
import type { Shape3 } from '../../datasets/pipeline/grid.ts';
import { REFERENCE_SLAB_AUGMENTATION } from '../../datasets/pipeline/slab-patch.ts';
import type { TrainSettings } from '../job.ts';
import { TRAIN_DEFAULTS } from './defaults.ts';

/** Slices of the reference's slab (method.md sections 4.1 and 5.1: a 128 x 128 x 16 patch). */
export const REFERENCE_SLICES = 16;

/** The reference's final training (method.md section 5.2): 10 steps of 4 slabs, 6000 epochs. */
export const REFERENCE_FINAL = { epochs: 6000, stepsPerEpoch: 10, batchSize: 4 } as const;

/** The protocol of settings written before the choice existed is this project's. */
export function protocolOf(settings: Pick<TrainSettings, 'protocol'>): TrainingProtocol {
  return settings.protocol ?? DEFAULT_PROTOCOL;
}

/**
 * The training patch of a protocol from the plan's. The reference trains on 128 x 128 x 16 slabs of its
 * 128 x 128 x 64 PROMISE12 volumes; it has no code for other datasets (method.md section 6.2), so there the
 * slab keeps the plan's in-plane size (which covers the dataset's largest case) with 16 slices: a
 * deviation, needed because hippocampus and ACDC volumes are not 128 voxels wide.
 */
export function protocolPatch(protocol: TrainingProtocol, planPatch: Shape3): Shape3 {
  return protocol === 'reference' ? [planPatch[0], planPatch[1], REFERENCE_SLICES] : [...planPatch];
}

/**
 * `settings` (epochs, steps, batch, seed, objective, time limit as chosen) under `protocol`: how patches
 * are drawn and augmented. The patch is the caller's (protocolPatch). Under 'reference' the slab sampler
 * replaces the patch sampler, whose foreground oversampling and augmentation are then off.
 */
export function withProtocol(
  settings: Omit<TrainSettings, 'foregroundProbability' | 'augmentation'> & Partial<TrainSettings>,
  protocol: TrainingProtocol,
): TrainSettings {
  const { slabAugmentation: _unused, ...rest } = settings;
  if (protocol === 'emonas') {
    return {
      ...rest,
      protocol,
      foregroundProbability: TRAIN_DEFAULTS.foregroundProbability,
      augmentation: DEFAULT_AUGMENTATION,
    };
  }
  return {
    ...rest,
    protocol,
    foregroundProbability: 0,
    augmentation: NO_AUGMENTATION,
    slabAugmentation: REFERENCE_SLAB_AUGMENTATION,
  };
}

/**
 * What the final training changes besides its epochs and steps. The reference attaches neither early
 * stopping nor the plateau schedule to it and trains at batch 4 (method.md section 5.2); this project
 * keeps the run's batch and schedule.
 */
export function finalOverrides(protocol: TrainingProtocol): Partial<TrainSettings> {
  return protocol === 'reference'
    ? { batchSize: REFERENCE_FINAL.batchSize, earlyStopping: null, plateau: null }
    : {};
}
