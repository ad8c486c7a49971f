// Runs in: any process (no tfjs). What a candidate's training is asked to do, what it reports while it
// runs and what it ends with: plain JSON, so it crosses any process boundary (child_process IPC today,
// Electron's utilityProcess later) unchanged.
import type { ErrorData } from '../base/errors.ts';
import type { CaseEntry } from '../datasets/case-table.ts';
import type { AugmentationSettings } from '../datasets/pipeline/augment.ts';
import type { Shape3 } from '../datasets/pipeline/grid.ts';
import type { PreprocessingPlan } from '../datasets/pipeline/plan.ts';
import type { SlabAugmentation } from '../datasets/pipeline/slab-patch.ts';
import type { TrainingProtocol } from '../base/training-protocol.ts';
import type { Genome } from '../searchspace/genome.ts';
import type { ObjectiveSettings } from './objectives.ts';
import type { EarlyStoppingSettings, PlateauSettings } from './schedule.ts';

export interface TrainSettings {
  /**
   * 'emonas' or the authors' 'reference' (core/train/setup/protocol.ts); absent in settings written before
   * the choice existed, which are 'emonas'.
   */
  protocol?: TrainingProtocol;
  /** C: the epoch budget (also the C of f1). */
  epochs: number;
  stepsPerEpoch: number;
  batchSize: number;
  patch: Shape3;
  /** Seeds weight initialisation ('init' stream) and data sampling ('data' stream) separately. */
  seed: number;
  /** The patch sampler's (protocol 'emonas'); 0 and no augmentation under 'reference'. */
  foregroundProbability: number;
  augmentation: AugmentationSettings;
  /** Protocol 'reference' only: its uniform slabs' augmentation (method.md section 5.3). */
  slabAugmentation?: SlabAugmentation;
  /** null: never stop early. */
  earlyStopping: EarlyStoppingSettings | null;
  /** null: constant learning rate. */
  plateau: PlateauSettings | null;
  objectives: ObjectiveSettings;
  /** Stop cleanly (keeping the best weights) when the next epoch would end after this many seconds. */
  maxSeconds: number | null;
}

export interface TrainJob {
  genome: Genome;
  /** The dataset's plan; its patch is the training patch. */
  plan: PreprocessingPlan;
  /** Where the preprocessed cases of this dataset and plan live. */
  cacheFolder: string;
  train: CaseEntry[];
  val: CaseEntry[];
  settings: TrainSettings;
  /** Receives the best weights, the model card and the per-epoch log. */
  outDir: string;
  /** Start from these weights rather than a random initialisation; a resumed checkpoint's still come first. */
  initialWeights?: InitialWeights;
}

/** A model folder whose weights a training starts from (checked by core/train/initial-weights.ts). */
export interface InitialWeights {
  modelDir: string;
  /** Whose weights they are, for the record (the final training: the search candidate's id). */
  source: string;
  /** SHA-256 of its weights.bin: the worker starts from these bytes or refuses. */
  sha256: string;
}

export interface EpochRecord {
  /** 0-based. */
  epoch: number;
  trainLoss: number;
  valLoss: number;
  /** Hard Dice per foreground label name, mean over validation cases. */
  valDice: Record<string, number>;
  learningRate: number;
  seconds: number;
}

export type TrainEvent =
  | { type: 'preparing'; done: number; total: number; fromCache: number }
  | {
      type: 'started';
      backend: string;
      params: number;
      patch: Shape3;
      trainCases: number;
      valCases: number;
      epochs: number;
      stepsPerEpoch: number;
      /** Epochs a resumed training took from its checkpoint; the next epoch is this one (0-based). */
      resumedEpochs?: number;
      /** Why a checkpoint that was there could not be resumed from (another job's, damaged). */
      checkpointIgnored?: string;
    }
  | { type: 'step'; epoch: number; step: number; steps: number; loss: number }
  | { type: 'epoch'; record: EpochRecord; best: boolean; etaSeconds: number };

export type StopReason = 'budget' | 'early-stopping' | 'time-limit';

export interface CandidateResult {
  status: 'completed' | 'failed';
  /** Why a failed candidate failed, as a sentence with its code. */
  reason?: ErrorData;
  f1: number;
  f2: number;
  params: number;
  /** e_max: 0-based epoch of the lowest validation loss, whose weights were kept. */
  bestEpoch: number;
  epochsRun: number;
  /** Hard Dice per foreground label name at the best epoch. */
  valDice: Record<string, number>;
  /** Means of the last 5 epochs (the f1 terms). */
  valLoss: number;
  trainLoss: number;
  stoppedBy?: StopReason;
  backend: string;
  seconds: number;
  outDir: string;
}

/** Network output channels: every class under softmax, the foreground classes under sigmoid. */
export function outputChannels(head: 'softmax' | 'sigmoid', classes: number): number {
  return head === 'softmax' ? classes : classes - 1;
}
