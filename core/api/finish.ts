// Runs in: any process. What the API says about finishing a search's job: the final training of a chosen
// network (a background job like a search), its evaluation on the run's held-out test cases, and a model
// applied to new scans.
import type { TrainingProtocol } from '../base/training-protocol.ts';
import type { VolumeData } from './datasets.ts';
import type { CineInfo, PostprocessingStatus, ReviewedCase, ReviewProblem, ScoreName } from './review.ts';
import type { EpochPoint, Genome } from './runs.ts';

/**
 * What <run>/final holds: the network trained, from which weights, and how its training ended. core/train's
 * FinalizeSummary less its run folder; test/unit/api/vocabulary.ts fails the type check when the two drift.
 */
export interface FinalModelSummary {
  candidate: string;
  genome: Genome;
  params: number;
  /** The model folder, <run>/final. */
  modelDir: string;
  status: 'completed' | 'failed';
  reason: string | null;
  /** Validation Dice per structure at the best epoch. */
  valDice: Record<string, number>;
  meanValDice: number | null;
  epochsRun: number;
  bestEpoch: number;
  /** Null when it failed. */
  stoppedBy: 'budget' | 'early-stopping' | 'time-limit' | null;
  seconds: number;
  /** The candidate's weights it started from (with their SHA-256), or 'fresh'. */
  startedFrom: { candidate: string; sha256: string } | 'fresh';
}

/**
 * A run's final training: `none` before any, `running`/`stopping` while this engine trains it, `paused` on
 * request, `interrupted` when the engine that trained it stopped without pausing it (both resume from the
 * last completed epoch), `failed` with its reason, `finished` when <run>/final holds the model.
 */
export type FinalState = 'none' | 'running' | 'stopping' | 'paused' | 'interrupted' | 'failed' | 'finished';

/** What a final training was asked for (final.start's settings, defaults filled in). */
export interface FinalRequest {
  /** A candidate id; null: the front's most accurate. */
  candidate: string | null;
  epochs: number;
  stepsPerEpoch: number;
  /** 0: no time limit. */
  maxMinutes: number;
  fresh: boolean;
  /** How it trains ('reference': method.md section 5.2); absent in a request made before the choice: the run's. */
  protocol?: TrainingProtocol;
}

export interface FinalModel {
  runId: string;
  state: FinalState;
  /** The training in progress, paused or interrupted; null when there is none. */
  request: FinalRequest | null;
  /** The final model <run>/final holds (the last one finished); null before the first. */
  model: FinalModelSummary | null;
  /** Learning curves of the training in progress, or of the final model when none is. */
  curves: EpochPoint[];
  reason?: string;
}

/** A model of a run: its final model, or one of its candidates by id. */
export type RunModel = 'final' | string;

/** A model measured on the run's test cases (never used for any choice), worst case first. */
export interface TestEvaluation {
  runId: string;
  model: RunModel;
  /** The model folder the predictions and scores are cached in. */
  modelDir: string;
  datasetKind: string;
  /** Structure name -> label value. */
  structures: Record<string, number>;
  cases: ReviewedCase[];
  mean: Record<string, Record<ScoreName, number>>;
  /** The dataset's own report: the Decathlon's per-label table, ACDC's clinical indices, PROMISE12's regions. */
  report: Record<string, unknown> | null;
  /** Cases predicted by this call; the others came from the cache (same weights). */
  predicted: number;
  postprocessing: PostprocessingStatus;
  problems: ReviewProblem[];
}

export interface AppliedScan {
  input: string;
  /** A 4D series (an ACDC cine) is predicted frame by frame: the frame, 1-based as ACDC numbers them. */
  frame?: number;
  output: string;
  /** Structure name -> volume in ml of the predicted label map. */
  volumesMl: Record<string, number>;
}

/** A model applied to new scans: the ones written, and each file that could not be predicted, named. */
export interface AppliedScans {
  modelDir: string;
  folder: string;
  scans: AppliedScan[];
  failures: ReviewProblem[];
  postprocessing: PostprocessingStatus;
}

/**
 * One applied scan as the viewer shows it: the image (the predicted frame of a 4D series) and the prediction
 * written for it, on the image's own grid.
 */
export interface AppliedScanVolume {
  /** Label value -> name, background included, as the model was trained. */
  labels: Record<number, string>;
  image: VolumeData;
  prediction: VolumeData;
  /** A 4D series (an ACDC cine): its frames; ED and ES are 0, since a lone file does not say which they are. */
  cine?: CineInfo;
}
