// Runs in: any process. The table of API methods, named `area.verb`: what each takes (a schema every request
// is parsed with) and what it answers (a type). Adding a method is one entry here and one in
// core/service/index.ts; the transports and the preload pick it up from this table.
import type { ChosenFolder, DoctorReport } from './app.ts';
import type { CaseVolume, DatasetRecord, DatasetReport } from './datasets.ts';
import type { AppliedScans, AppliedScanVolume, FinalModel, TestEvaluation } from './finish.ts';
import { TRAINING_PROTOCOLS } from '../base/training-protocol.ts';
import { MODEL_EXPORT_FORMATS } from './review.ts';
import type { CandidateReview, CineSlice, ExportedFiles, ReviewCase } from './review.ts';
import type { EpochPoint, FrontCandidate, RunProgress, RunSummary, SearchEstimate } from './runs.ts';
import {
  array,
  boolean,
  jsonObject,
  number,
  object,
  oneOf,
  optional,
  pattern,
  string,
  type Infer,
  type Schema,
} from './schema.ts';

export interface MethodSpec<I, O> {
  /** One sentence, for the contract listing. */
  summary: string;
  input: Schema<I>;
  /** Type-level only, never set: what a successful call answers with. */
  readonly output?: O;
}

/** Curried so the output type is written out while the input type is inferred from its schema. */
function method<O>() {
  return <I>(spec: { summary: string; input: Schema<I> }): MethodSpec<I, O> => spec;
}

/** Absolute folder or file paths; long enough for any real path, short enough to refuse garbage. */
const path = () => string({ minLength: 1, maxLength: 4096 });

/** A library name becomes a folder name, so: letters, digits, space, dot, dash, underscore. */
export const DATASET_NAME = pattern(
  /^[A-Za-z0-9](?:[A-Za-z0-9 ._-]{0,62}[A-Za-z0-9])?$/,
  'a name of 1 to 64 letters, digits, spaces, dots, dashes or underscores, starting and ending with a letter or digit',
);

/** A run id is its folder's name under the engine's runs folder. */
export const RUN_ID = pattern(
  /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/,
  'a run id of letters, digits, dots, dashes or underscores (as run.list gives it)',
);

/** A candidate id is its folder's name under the run's candidates/ folder, e.g. g12-c3. */
export const CANDIDATE_ID = pattern(
  /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/,
  'a candidate id of letters, digits, dots, dashes or underscores (as run.get gives it)',
);

const CASE_ID = () => string({ minLength: 1, maxLength: 256 });
/** Training processes at once; more than the machine's cores only slows each one down. */
const WORKERS = () => number({ min: 1, max: 64, integer: true });
const SLICE = () => number({ min: 0, max: 100_000, integer: true });
/** An export replaces existing files only when asked to: the app asks the user first. */
const OVERWRITE = optional(boolean());

export const methods = {
  'app.doctor': method<DoctorReport>()({
    summary: 'Which training backend the engine uses, and why each other one is unavailable.',
    input: object({}),
  }),
  'app.chooseFolder': method<ChosenFolder>()({
    summary: 'Asks the user for a folder in a native dialog (desktop app only).',
    input: object({ title: optional(string({ maxLength: 200 })) }),
  }),
  'dataset.inspect': method<DatasetReport>()({
    summary:
      'Detects the kind of a dataset folder and validates every case, without writing anything; a file outside the folder is a problem, never read (`allowLinks` follows symbolic links out of it).',
    input: object({ folder: path(), allowLinks: optional(boolean()) }),
  }),
  'dataset.import': method<DatasetRecord>()({
    summary:
      'Records an inspected dataset folder in the library under a name (copying it only when asked; `allowLinks` as for dataset.inspect).',
    input: object({
      folder: path(),
      name: DATASET_NAME,
      copy: optional(boolean()),
      allowLinks: optional(boolean()),
    }),
  }),
  'dataset.list': method<DatasetRecord[]>()({
    summary: 'The datasets in the library.',
    input: object({}),
  }),
  'dataset.get': method<{ record: DatasetRecord; report: DatasetReport }>()({
    summary: 'A library dataset with the inspection report recorded when it was imported.',
    input: object({ name: DATASET_NAME }),
  }),
  'dataset.remove': method<{ name: string }>()({
    summary: "Forgets a library dataset (and deletes the library's copy, never the user's own folder).",
    input: object({ name: DATASET_NAME }),
  }),
  'case.volume': method<CaseVolume>()({
    summary: "A case's image and label map as typed arrays with their geometry, for the viewer.",
    input: object({ dataset: DATASET_NAME, caseId: string({ minLength: 1, maxLength: 256 }) }),
  }),
  'case.cine': method<CineSlice>()({
    summary: "One slice of an ACDC patient's 4D cine through every frame, with the ED and ES frames.",
    input: object({ dataset: DATASET_NAME, caseId: CASE_ID(), slice: SLICE() }),
  }),
  'search.estimate': method<SearchEstimate>()({
    summary:
      "Estimates a dataset search's time and disk from a short measured probe (two training steps of a typical network with the candidates' training set-up); `config`, `problem`, `workers` and `protocol` are search.start's, so the estimate prices the search that call would start.",
    input: object({
      dataset: DATASET_NAME,
      config: optional(jsonObject()),
      problem: optional(jsonObject()),
      workers: optional(WORKERS()),
      protocol: optional(oneOf(TRAINING_PROTOCOLS)),
    }),
  }),
  'search.start': method<RunSummary>()({
    summary:
      "Starts a search in a new run, over a library dataset (`dataset`, with training settings in `problem`: epochs, stepsPerEpoch, patch, maxMinutes, splitSeed) or the formula problem; it goes on in the engine, reporting through events. `protocol` ('emonas', the default, or 'reference', the authors' training) sets the configuration's protocol.",
    input: object({
      config: optional(jsonObject()),
      problem: optional(jsonObject()),
      dataset: optional(DATASET_NAME),
      workers: optional(WORKERS()),
      protocol: optional(oneOf(TRAINING_PROTOCOLS)),
    }),
  }),
  'search.pause': method<RunSummary>()({
    summary: 'Stops a running search where it is; the run keeps everything evaluated and can be resumed.',
    input: object({ runId: RUN_ID }),
  }),
  'search.resume': method<RunSummary>()({
    summary:
      'Continues a paused, interrupted, failed or stopped-at-budget run exactly where its journal ends.',
    input: object({ runId: RUN_ID }),
  }),
  'search.cancel': method<RunSummary>()({
    summary: 'Stops a search for good: what it evaluated is kept, but it cannot be resumed.',
    input: object({ runId: RUN_ID }),
  }),
  'run.list': method<RunSummary[]>()({
    summary: "The runs in the engine's runs folder, oldest first.",
    input: object({}),
  }),
  'run.get': method<{ summary: RunSummary; front: FrontCandidate[] }>()({
    summary: "A run's summary and its current Pareto front, lowest error first.",
    input: object({ runId: RUN_ID }),
  }),
  'run.progress': method<RunProgress>()({
    summary:
      "A run's plan, every candidate it asked for (with failures and their reasons), and its figures per generation.",
    input: object({ runId: RUN_ID }),
  }),
  'candidate.curves': method<EpochPoint[]>()({
    summary: "A candidate's learning curves: training and validation loss and Dice per epoch, so far.",
    input: object({ runId: RUN_ID, candidateId: CANDIDATE_ID }),
  }),
  'candidate.review': method<CandidateReview>()({
    summary:
      "A trained candidate's predictions on its validation cases (computed once, then cached in the run folder) measured against the ground truth, worst case first.",
    input: object({ runId: RUN_ID, candidateId: CANDIDATE_ID }),
  }),
  'review.case': method<ReviewCase>()({
    summary: "A validation case's image, ground truth and the candidate's prediction, for the viewer.",
    input: object({ runId: RUN_ID, candidateId: CANDIDATE_ID, caseId: CASE_ID() }),
  }),
  'review.prediction': method<ReviewCase['prediction']>()({
    summary:
      "A candidate's prediction of one validation case alone, e.g. a second candidate to compare with.",
    input: object({ runId: RUN_ID, candidateId: CANDIDATE_ID, caseId: CASE_ID() }),
  }),
  'review.cine': method<CineSlice>()({
    summary: "One slice of the cine of a reviewed ACDC case's patient, through every frame.",
    input: object({ runId: RUN_ID, candidateId: CANDIDATE_ID, caseId: CASE_ID(), slice: SLICE() }),
  }),
  'prediction.export': method<ExportedFiles>()({
    summary:
      "Writes a candidate's validation predictions into a folder, in the dataset's own file format and geometry.",
    input: object({ runId: RUN_ID, candidateId: CANDIDATE_ID, folder: path(), overwrite: OVERWRITE }),
  }),
  'model.export': method<ExportedFiles>()({
    summary:
      'Writes a trained candidate into a folder: the network in TensorFlow.js format with its genome as JSON (the default), as a PyTorch module with safetensors weights, or as ONNX; the last two with a README of the preprocessing.',
    input: object({
      runId: RUN_ID,
      candidateId: CANDIDATE_ID,
      folder: path(),
      format: optional(oneOf(MODEL_EXPORT_FORMATS)),
      overwrite: OVERWRITE,
    }),
  }),
  'report.export': method<ExportedFiles>()({
    summary:
      "Writes the run's self-contained HTML report (report.html in the run folder unless a file is given), about the chosen candidate.",
    input: object({
      runId: RUN_ID,
      candidateId: CANDIDATE_ID,
      file: optional(path()),
      overwrite: OVERWRITE,
    }),
  }),
  'final.start': method<FinalModel>()({
    summary:
      "Trains a run's chosen network again for longer into <run>/final (by default the front's most accurate candidate, from its weights unless `fresh`), in the background like a search; `protocol` defaults to the run's ('reference': 6000 epochs of 10 steps at batch 4, constant learning rate, no early stopping).",
    input: object({
      runId: RUN_ID,
      candidate: optional(CANDIDATE_ID),
      epochs: optional(number({ min: 1, max: 100_000, integer: true })),
      stepsPerEpoch: optional(number({ min: 1, max: 100_000, integer: true })),
      maxMinutes: optional(number({ min: 0, max: 100_000 })),
      fresh: optional(boolean()),
      protocol: optional(oneOf(TRAINING_PROTOCOLS)),
    }),
  }),
  'final.pause': method<FinalModel>()({
    summary: "Stops a run's final training after its current step; it resumes from its last completed epoch.",
    input: object({ runId: RUN_ID }),
  }),
  'final.resume': method<FinalModel>()({
    summary: 'Continues a paused, interrupted or failed final training from its last completed epoch.',
    input: object({ runId: RUN_ID }),
  }),
  'final.cancel': method<FinalModel>()({
    summary: "Stops a final training for good and deletes what it trained; the run's final model stays.",
    input: object({ runId: RUN_ID }),
  }),
  'final.get': method<FinalModel>()({
    summary: "A run's final model and its final training in progress, with learning curves.",
    input: object({ runId: RUN_ID }),
  }),
  'final.list': method<FinalModel[]>()({
    summary: 'Every run with a final model or a final training in progress.',
    input: object({}),
  }),
  'test.evaluate': method<TestEvaluation>()({
    summary:
      "A run's final model (`model: 'final'`, the default) or a candidate predicted on the test cases the search set aside (computed once, cached in the model folder) and scored with the dataset's own report, worst case first.",
    input: object({ runId: RUN_ID, model: optional(CANDIDATE_ID) }),
  }),
  'test.case': method<ReviewCase>()({
    summary:
      "One test case of a run's test evaluation (test.evaluate first): its image, ground truth and the model's prediction, for the viewer.",
    input: object({ runId: RUN_ID, model: optional(CANDIDATE_ID), caseId: CASE_ID() }),
  }),
  'scans.apply': method<AppliedScans>()({
    summary:
      "Predicts new images (files, or every image of a folder) with a run's final model or a candidate into a folder, each in its source's format and geometry, with per-label volumes; a file that cannot be predicted is named, the others still written.",
    input: object({
      runId: RUN_ID,
      model: optional(CANDIDATE_ID),
      inputs: array(path(), { maxItems: 10_000 }),
      folder: path(),
      overwrite: OVERWRITE,
    }),
  }),
  'scans.volume': method<AppliedScanVolume>()({
    summary:
      "One scan scans.apply predicted, for the viewer: the image (`frame`, 1-based, of a 4D series) and the prediction written for it, with the model's label names.",
    input: object({
      runId: RUN_ID,
      model: optional(CANDIDATE_ID),
      input: path(),
      frame: optional(number({ min: 1, max: 100_000, integer: true })),
      output: path(),
    }),
  }),
  'scans.cine': method<CineSlice>()({
    summary: 'One slice of a 4D image given to scans.apply (an ACDC cine) through every frame.',
    input: object({ input: path(), slice: SLICE() }),
  }),
} as const;

export type Methods = typeof methods;
export type MethodName = keyof Methods;
export type MethodInput<M extends MethodName> = Infer<Methods[M]['input']>;
export type MethodOutput<M extends MethodName> = Methods[M] extends MethodSpec<unknown, infer O> ? O : never;

export const methodNames = Object.keys(methods) as MethodName[];

export function isMethodName(name: unknown): name is MethodName {
  return typeof name === 'string' && Object.hasOwn(methods, name);
}
