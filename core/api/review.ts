// Runs in: any process. What the API says about reviewing a trained candidate: its per-case metrics on the
// validation cases, the volumes the viewer shows side by side, an ACDC patient's cine, and what the exports
// wrote. A structure's scores are core/metrics' own type, imported as a type only (erased when bundled).
import type { LabelMetrics } from '../metrics/label-metrics.ts';
import type { DatasetKind, VolumeData } from './datasets.ts';
import type { Genome } from './runs.ts';

/** One structure of one case, as core/metrics measures it: volumes in ml, distances in mm. */
export type StructureScores = LabelMetrics;

export type ScoreName = Exclude<keyof StructureScores, 'empty'>;

export interface ReviewedCase {
  id: string;
  patient?: string;
  phase?: 'ED' | 'ES';
  /** Mean Dice over the structures: what "worst case first" sorts by. */
  meanDice: number;
  /** Structure name -> scores. */
  structures: Record<string, StructureScores>;
}

export interface ReviewProblem {
  id?: string;
  file: string;
  message: string;
}

/** Whether predicted label maps were post-processed with the model folder's stored decision, and how. */
export interface PostprocessingStatus {
  /** True when at least one label kept only its largest connected component. */
  applied: boolean;
  /** Names of the labels that kept only their largest connected component. */
  labels: string[];
  /** One sentence for a person: what was done, or why nothing was (turned off, no decision stored). */
  summary: string;
}

/** A trained candidate measured on the validation cases of its split, worst case first. */
export interface CandidateReview {
  runId: string;
  candidateId: string;
  datasetKind: DatasetKind;
  /** The dataset folder the candidate was trained on. */
  datasetRoot: string;
  /** Label value -> name, background included (JSON object keys are the values as text). */
  labels: Record<number, string>;
  genome: Genome;
  params: number;
  /** Structure name -> label value. */
  structures: Record<string, number>;
  cases: ReviewedCase[];
  /** Structure name -> the mean of every score over the cases. */
  mean: Record<string, Record<ScoreName, number>>;
  /** Metric name -> its definition in words, so a number never travels without its meaning. */
  definitions: Record<string, string>;
  tau: number;
  /** Cases whose prediction was computed by this call; the others came from the run folder's cache. */
  predicted: number;
  /** The predictions measured here were post-processed as `emonas predict` does by default. */
  postprocessing: PostprocessingStatus;
  problems: ReviewProblem[];
}

/** ACDC: the patient's cine, 1-based frame numbers as in Info.cfg. */
export interface CineInfo {
  frames: number;
  ed: number;
  es: number;
}

/** One validation case as the viewer shows it: image, ground truth and the candidate's prediction. */
export interface ReviewCase {
  runId: string;
  candidateId: string;
  caseId: string;
  labels: Record<number, string>;
  image: VolumeData;
  label: VolumeData;
  prediction: VolumeData;
  cine?: CineInfo;
}

/**
 * One slice of a cine through every frame: voxel (i, j) of frame t (0-based) is at
 * data[i + width * (j + height * t)]; spacing is the in-plane spacing in mm.
 */
export interface CineSlice extends CineInfo {
  caseId: string;
  slice: number;
  slices: number;
  width: number;
  height: number;
  spacing: [number, number];
  data: Float32Array;
}

export interface ExportedFiles {
  folder: string;
  /** Absolute paths of the files written. */
  files: string[];
}

/** What `model.export` writes: TensorFlow.js (the app's own format), a PyTorch module, or ONNX. */
export const MODEL_EXPORT_FORMATS = ['tfjs', 'pytorch', 'onnx'] as const;
export type ModelExportFormat = (typeof MODEL_EXPORT_FORMATS)[number];

export type Rgb = [number, number, number];

/**
 * Colours of label values 1, 2, 3, ... (repeating), shared by the viewer and the HTML report so a structure
 * has one colour wherever a researcher sees it.
 */
export const LABEL_COLOURS: readonly Rgb[] = [
  [230, 60, 60],
  [60, 200, 90],
  [70, 130, 240],
  [240, 190, 40],
  [200, 80, 220],
  [40, 200, 200],
];

export function labelColour(value: number): Rgb {
  return LABEL_COLOURS[(value - 1) % LABEL_COLOURS.length] ?? [255, 255, 255];
}

/** The error map's classes: the value each takes in an error label map, and its colour. */
export const ERROR_CLASSES = {
  /** Ground-truth foreground the prediction missed (predicted background there). */
  falseNegative: { value: 1, name: 'missed (false negative)', colour: [30, 144, 255] as Rgb },
  /** Predicted foreground where the ground truth is background. */
  falsePositive: { value: 2, name: 'extra (false positive)', colour: [255, 140, 0] as Rgb },
  /** Foreground in both, but another structure. */
  wrongStructure: { value: 3, name: 'wrong structure', colour: [255, 235, 59] as Rgb },
} as const;

type LabelArray = ArrayLike<number>;

/** The error map of a prediction against its ground truth, voxel for voxel (values of ERROR_CLASSES, 0 = right). */
export function errorMap(truth: LabelArray, prediction: LabelArray): Uint8Array {
  const out = new Uint8Array(truth.length);
  for (let n = 0; n < truth.length; n++) {
    const t = truth[n] as number;
    const p = prediction[n] as number;
    if (t === p) continue;
    out[n] = p === 0 ? 1 : t === 0 ? 2 : 3;
  }
  return out;
}

/** How many non-zero voxels each slice across voxel axis `axis` (0 = i, 1 = j, 2 = k) holds. */
export function nonZeroPerSlice(
  data: LabelArray,
  shape: readonly [number, number, number],
  axis: 0 | 1 | 2,
): number[] {
  const [nx, ny, nz] = shape;
  const counts = new Array<number>(shape[axis]).fill(0);
  for (let k = 0, n = 0; k < nz; k++)
    for (let j = 0; j < ny; j++)
      for (let i = 0; i < nx; i++, n++) {
        if ((data[n] as number) === 0) continue;
        const s = axis === 0 ? i : axis === 1 ? j : k;
        counts[s] = (counts[s] as number) + 1;
      }
  return counts;
}

/** The index of the largest count (the first on ties), or -1 when every count is 0. */
export function largestIndex(counts: readonly number[]): number {
  let best = -1;
  let most = 0;
  counts.forEach((c, n) => {
    if (c > most) {
      most = c;
      best = n;
    }
  });
  return best;
}

/**
 * The slice across k to show a failure on: the one with the most ground-truth voxels the prediction got
 * wrong (missed, or called another structure), so the structure is in view; when every structure was found,
 * the one with the most wrong voxels of any kind; -1 when the prediction is perfect.
 */
export function failureSlice(
  truth: LabelArray,
  errors: LabelArray,
  shape: readonly [number, number, number],
): number {
  const plane = shape[0] * shape[1];
  const onTruth = new Array<number>(shape[2]).fill(0);
  for (let n = 0; n < errors.length; n++) {
    if ((errors[n] as number) !== 0 && (truth[n] as number) !== 0) {
      const k = Math.floor(n / plane);
      onTruth[k] = (onTruth[k] as number) + 1;
    }
  }
  const k = largestIndex(onTruth);
  return k >= 0 ? k : largestIndex(nonZeroPerSlice(errors, shape, 2));
}
