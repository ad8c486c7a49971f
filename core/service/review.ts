// Runs in: the engine. Reviewing a trained candidate as plain functions on JSON-able data: its predictions on
// the validation cases of its split (computed once in a worker process with the model's own inference, then
// cached in the candidate's folder), their metrics against the ground truth (core/metrics, cached beside
// them), and the volumes the viewer shows side by side, all keyed to the model's weights so a retrained
// candidate is never reviewed with stale predictions.
import { fork } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createWriteStream, existsSync } from 'node:fs';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { basename, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { VolumeData } from '../api/datasets.ts';
import type {
  CandidateReview,
  CineInfo,
  CineSlice,
  ReviewCase,
  ReviewedCase,
  ReviewProblem,
  ScoreName,
  StructureScores,
} from '../api/review.ts';
import { EmonasError, type ErrorData } from '../base/errors.ts';
import type { CaseEntry, DatasetManifest } from '../datasets/case-table.ts';
import { readDatasetLayout } from '../datasets/detect.ts';
import { toIntegerLabels } from '../datasets/labels.ts';
import { openVolume, readVolume, readVolumeHeader } from '../io/volume-files.ts';
import type { VolumeFile } from '../io/volume-header.ts';
import type { Volume } from '../io/volume.ts';
import { MODEL_FILE, WEIGHTS_FILE } from '../nn/save-load.ts';
import { MODEL_CARD_FILE, readModelCard, type ModelCard } from '../train/model-card.ts';
import { loadCase } from '../datasets/load-case.ts';
import { evaluatePredictions, type EvaluationReport } from './evaluate.ts';
import type { PredictionJob, PredictionReport } from './review-worker.ts';

/** Where a candidate's review lives inside its folder (architecture.md "A run on disk"). */
export const REVIEW_FILES = {
  predictions: 'predictions',
  /** Inside predictions/: which case is in which file, and for which weights. */
  index: 'index.json',
  metrics: 'metrics.json',
  workerLog: 'prediction-worker.log',
} as const;

export interface CandidateRef {
  runDir: string;
  runId: string;
  candidateId: string;
}

export interface OpenedCandidate {
  ref: CandidateRef;
  /** The candidate's folder: a model folder as emonas train writes it. */
  dir: string;
  card: ModelCard;
  /** Identifies the weights: predictions made with others are stale. */
  stamp: string;
  manifest: DatasetManifest;
  /** The validation cases of the candidate's split, in split order. */
  validation: CaseEntry[];
}

export interface ReviewHooks {
  onProgress?: (done: number, total: number, caseId: string) => void;
}

interface PredictionIndex {
  format: 'emonas-predictions-1';
  model: string;
  /** Case id -> file name inside predictions/. */
  cases: Record<string, string>;
}

interface MetricsCache {
  format: 'emonas-review-1';
  model: string;
  cases: string[];
  report: EvaluationReport;
}

export function candidateFolder(ref: CandidateRef): string {
  return join(ref.runDir, 'candidates', ref.candidateId);
}

async function readJson(file: string): Promise<unknown> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as unknown;
  } catch {
    return undefined;
  }
}

export interface CandidateSplit {
  /** The dataset folder the candidate was trained on. */
  dataset: string;
  train: string[];
  val: string[];
  test: string[];
  seed: number | null;
}

const isIdList = (v: unknown): v is string[] => Array.isArray(v) && v.every((id) => typeof id === 'string');

/** The candidate's split.json, as emonas train writes it. */
export async function readCandidateSplit(dir: string, ref: CandidateRef): Promise<CandidateSplit> {
  const file = join(dir, 'split.json');
  const split = (await readJson(file)) as Record<string, unknown> | undefined;
  if (typeof split?.dataset !== 'string' || !isIdList(split.val)) {
    throw new EmonasError(
      'unreadable_file',
      `${file} is missing or damaged, so the validation cases of candidate ${ref.candidateId} are unknown; train the candidate again.`,
      { file },
    );
  }
  return {
    dataset: split.dataset,
    train: isIdList(split.train) ? split.train : [],
    val: split.val,
    test: isIdList(split.test) ? split.test : [],
    seed: typeof split.seed === 'number' ? split.seed : null,
  };
}

/** The model's weights and card, hashed: enough to tell two trainings of one candidate apart. */
async function modelStamp(dir: string): Promise<string> {
  const hash = createHash('sha256');
  for (const name of [WEIGHTS_FILE, MODEL_FILE, MODEL_CARD_FILE]) {
    const file = join(dir, name);
    try {
      hash.update(await readFile(file));
    } catch {
      throw new EmonasError(
        'not_found',
        `${file} is missing, so the trained network in ${dir} is incomplete; train the candidate again.`,
        { file },
      );
    }
  }
  return hash.digest('hex').slice(0, 32);
}

/** Everything a review needs from the candidate's folder and the dataset it was trained on. */
export async function openCandidate(ref: CandidateRef): Promise<OpenedCandidate> {
  const dir = candidateFolder(ref);
  if (!existsSync(dir)) {
    throw new EmonasError(
      'not_found',
      `Run ${ref.runId} has no candidate ${ref.candidateId} (no folder ${dir}); pick one from the run's front.`,
      { file: dir },
    );
  }
  if (!existsSync(join(dir, MODEL_CARD_FILE))) {
    throw new EmonasError(
      'not_found',
      `Candidate ${ref.candidateId} of run ${ref.runId} has no trained network (${MODEL_CARD_FILE} is missing in ${dir}); only trained candidates can be reviewed.`,
      { file: join(dir, MODEL_CARD_FILE) },
    );
  }
  const card = await readModelCard(dir);
  const split = await readCandidateSplit(dir, ref);
  let manifest: DatasetManifest;
  try {
    manifest = await readDatasetLayout(split.dataset);
  } catch (err) {
    throw new EmonasError(
      'not_found',
      `The dataset folder ${split.dataset} that candidate ${ref.candidateId} was trained on cannot be read (${(err as Error).message}); put the dataset back where it was.`,
      { file: split.dataset, cause: err },
    );
  }
  const byId = new Map(manifest.cases.map((c) => [c.id, c]));
  const validation: CaseEntry[] = [];
  for (const id of split.val) {
    const entry = byId.get(id);
    if (!entry?.label) {
      throw new EmonasError(
        'invalid_dataset',
        `The dataset folder ${split.dataset} lacks validation case ${id} of candidate ${ref.candidateId} (or its label map); put the dataset back as it was when the candidate was trained.`,
        { file: split.dataset },
      );
    }
    validation.push(entry);
  }
  return { ref, dir, card, stamp: await modelStamp(dir), manifest, validation };
}

function validationCase(opened: OpenedCandidate, caseId: string): CaseEntry {
  const entry = opened.validation.find((c) => c.id === caseId);
  if (!entry) {
    throw new EmonasError(
      'not_found',
      `Case ${caseId} is not one of the validation cases of candidate ${opened.ref.candidateId}; pick one from its review.`,
    );
  }
  return entry;
}

/** One prediction job per candidate folder at a time, so two requests never predict the same case twice. */
const locks = new Map<string, Promise<unknown>>();

function withLock<T>(key: string, task: () => Promise<T>): Promise<T> {
  const previous = locks.get(key) ?? Promise.resolve();
  const next = previous.then(task, task);
  const settled = next.then(
    () => undefined,
    () => undefined,
  );
  locks.set(key, settled);
  void settled.then(() => {
    if (locks.get(key) === settled) locks.delete(key);
  });
  return next;
}

async function readIndex(folder: string, stamp: string): Promise<PredictionIndex> {
  const index = (await readJson(join(folder, REVIEW_FILES.index))) as PredictionIndex | undefined;
  if (index?.format === 'emonas-predictions-1' && index.model === stamp && typeof index.cases === 'object') {
    return index;
  }
  // Predictions of other weights (the candidate was trained again) must not be shown as this network's.
  await rm(folder, { recursive: true, force: true });
  await mkdir(folder, { recursive: true });
  return { format: 'emonas-predictions-1', model: stamp, cases: {} };
}

async function writeJsonAtomic(file: string, value: unknown): Promise<void> {
  await writeFile(`${file}.partial`, JSON.stringify(value, null, 2) + '\n');
  await rename(`${file}.partial`, file);
}

const WORKER = fileURLToPath(new URL('./review-worker.ts', import.meta.url));
const TSX_LOADER = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
const STDERR_TAIL = 2000;

/** Runs the prediction worker; resolves when it has answered for every image, rejects if it dies first. */
function predictInWorker(
  job: PredictionJob,
  logFile: string,
  onReport: (report: Extract<PredictionReport, { caseId: string }>) => void,
): Promise<void> {
  const child = fork(WORKER, [], {
    execArgv: ['--import', TSX_LOADER],
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    env: process.env,
  });
  const log = createWriteStream(logFile, { flags: 'a' });
  log.on('error', () => undefined);
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => log.write(chunk));
  child.stderr?.on('data', (chunk: Buffer) => {
    log.write(chunk);
    stderr = (stderr + chunk.toString('utf8')).slice(-STDERR_TAIL);
  });
  return new Promise((resolve, reject) => {
    let ended = false;
    let failure: ErrorData | undefined;
    child.on('message', (message: PredictionReport) => {
      if (message.type === 'done') ended = true;
      else if (message.type === 'error') failure = message.error;
      else onReport(message);
    });
    child.once('exit', (code, signal) => {
      log.end();
      if (ended) return resolve();
      if (failure) {
        return reject(new EmonasError(failure.code, failure.message, { file: failure.file ?? job.modelDir }));
      }
      const how = signal ? `was killed (${signal})` : `exited with code ${code}`;
      reject(
        new EmonasError(
          'worker_crashed',
          `The prediction worker for ${job.modelDir} ${how} before it finished; see ${logFile}.${stderr.trim() ? ` Its last words: ${stderr.trim().split('\n').slice(-3).join(' ')}` : ''}`,
          { file: logFile },
        ),
      );
    });
    child.send(job);
  });
}

/**
 * The prediction files of the given validation cases, computing (in a worker) those the candidate's folder
 * does not hold yet for these weights. A case whose prediction failed is returned as a problem.
 */
export async function ensurePredictions(
  opened: OpenedCandidate,
  caseIds: string[],
  hooks: ReviewHooks = {},
): Promise<{ files: Map<string, string>; predicted: number; problems: ReviewProblem[] }> {
  return withLock(opened.dir, async () => {
    const folder = join(opened.dir, REVIEW_FILES.predictions);
    await mkdir(folder, { recursive: true });
    const index = await readIndex(folder, opened.stamp);
    const entries = caseIds.map((id) => validationCase(opened, id));
    const missing = entries.filter((e) => {
      const name = index.cases[e.id];
      return name === undefined || !existsSync(join(folder, name));
    });
    const problems: ReviewProblem[] = [];
    let done = caseIds.length - missing.length;
    if (missing.length > 0) {
      const job: PredictionJob = {
        modelDir: opened.dir,
        images: missing.map((e) => ({
          caseId: e.id,
          input: e.image,
          output: join(folder, basename(e.image)),
        })),
      };
      const writes: Promise<void>[] = [];
      await predictInWorker(job, join(opened.dir, REVIEW_FILES.workerLog), (report) => {
        const entry = entries.find((e) => e.id === report.caseId);
        if (!entry) return;
        if (report.type === 'predicted') {
          index.cases[entry.id] = basename(entry.image);
          writes.push(writeJsonAtomic(join(folder, REVIEW_FILES.index), index));
        } else {
          problems.push({
            id: entry.id,
            file: report.error.file ?? entry.image,
            message: report.error.message,
          });
        }
        hooks.onProgress?.(++done, caseIds.length, entry.id);
      });
      for (const write of writes) await write;
    }
    const files = new Map<string, string>();
    for (const e of entries) {
      const name = index.cases[e.id];
      if (name !== undefined) files.set(e.id, join(folder, name));
    }
    return { files, predicted: missing.length - problems.length, problems };
  });
}

function scores(value: unknown): StructureScores {
  return value as StructureScores;
}

function toReviewedCases(report: EvaluationReport): ReviewedCase[] {
  const names = Object.keys(report.labels);
  const cases = report.perCase.map((entry, n): ReviewedCase => {
    const info = report.cases[n];
    const structures: Record<string, StructureScores> = {};
    for (const name of names) structures[name] = scores(entry[name]);
    const dice = names.map((name) => structures[name]?.dice ?? 0);
    const reviewed: ReviewedCase = {
      id: entry.id,
      meanDice: dice.length > 0 ? dice.reduce((a, b) => a + b, 0) / dice.length : 0,
      structures,
    };
    if (info?.patient !== undefined) reviewed.patient = info.patient;
    if (info?.phase !== undefined) reviewed.phase = info.phase;
    return reviewed;
  });
  return cases.sort((a, b) => a.meanDice - b.meanDice || a.id.localeCompare(b.id));
}

async function evaluation(opened: OpenedCandidate, files: Map<string, string>): Promise<EvaluationReport> {
  const file = join(opened.dir, REVIEW_FILES.metrics);
  const ids = [...files.keys()].sort();
  const cached = (await readJson(file)) as MetricsCache | undefined;
  if (
    cached?.format === 'emonas-review-1' &&
    cached.model === opened.stamp &&
    JSON.stringify(cached.cases) === JSON.stringify(ids)
  ) {
    return cached.report;
  }
  const report = await evaluatePredictions({
    pred: join(opened.dir, REVIEW_FILES.predictions),
    gt: opened.manifest.root,
    datasetKind: opened.manifest.kind,
  });
  const cache: MetricsCache = { format: 'emonas-review-1', model: opened.stamp, cases: ids, report };
  await writeJsonAtomic(file, cache);
  return report;
}

/** Predicts (or takes from the cache) every validation case and measures each; worst case first. */
export async function reviewCandidate(ref: CandidateRef, hooks: ReviewHooks = {}): Promise<CandidateReview> {
  const opened = await openCandidate(ref);
  const ids = opened.validation.map((c) => c.id);
  if (ids.length === 0) {
    throw new EmonasError(
      'invalid_dataset',
      `Candidate ${ref.candidateId} has no validation cases in its split.json, so there is nothing to review.`,
      { file: join(opened.dir, 'split.json') },
    );
  }
  const { files, predicted, problems } = await ensurePredictions(opened, ids, hooks);
  if (files.size === 0) {
    throw new EmonasError(
      'internal',
      `No validation case of candidate ${ref.candidateId} could be predicted: ${problems[0]?.message ?? 'unknown reason'}`,
      { file: problems[0]?.file ?? opened.dir },
    );
  }
  const report = await evaluation(opened, files);
  const mean: Record<string, Record<ScoreName, number>> = {};
  for (const [name, row] of Object.entries(report.mean)) mean[name] = row;
  return {
    runId: ref.runId,
    candidateId: ref.candidateId,
    datasetKind: opened.manifest.kind,
    datasetRoot: opened.manifest.root,
    labels: opened.manifest.labels,
    genome: opened.card.genome,
    params: opened.card.params,
    structures: report.labels,
    cases: toReviewedCases(report),
    mean,
    definitions: { ...report.definitions, ...report.emptyMaskPolicy },
    tau: report.options.tau,
    predicted,
    problems: [...problems, ...report.problems],
  };
}

/** float64 voxels cross as float32: the viewer needs no more, and it halves what crosses. */
export function volumeData(volume: Volume): VolumeData {
  const data = volume.data instanceof Float64Array ? Float32Array.from(volume.data) : volume.data;
  return {
    data,
    shape: volume.shape,
    spacing: volume.spacing,
    origin: volume.origin,
    direction: volume.direction,
  };
}

async function predictionOf(opened: OpenedCandidate, caseId: string): Promise<Volume> {
  const { files, problems } = await ensurePredictions(opened, [caseId]);
  const file = files.get(caseId);
  if (file === undefined) {
    const problem = problems[0];
    throw new EmonasError('internal', problem?.message ?? `Case ${caseId} could not be predicted.`, {
      file: problem?.file ?? opened.dir,
    });
  }
  return toIntegerLabels(await readVolume(file), file);
}

/** ACDC: the frame count of the patient's cine and its ED and ES frames (1-based, from Info.cfg). */
export async function cineInfo(entry: Pick<CaseEntry, 'cine' | 'info'>): Promise<CineInfo | undefined> {
  if (entry.cine === undefined) return undefined;
  const frames = (await readVolumeHeader(entry.cine)).frames;
  return { frames, ed: Number(entry.info?.ED ?? 0), es: Number(entry.info?.ES ?? 0) };
}

/** A validation case as the viewer shows it: image, ground truth and prediction on one grid. */
export async function reviewCase(ref: CandidateRef, caseId: string): Promise<ReviewCase> {
  const opened = await openCandidate(ref);
  const entry = validationCase(opened, caseId);
  const prediction = await predictionOf(opened, caseId);
  const { image, label } = await loadCase(entry);
  if (!label) {
    throw new EmonasError('not_found', `Validation case ${caseId} has no label map to compare with.`, {
      file: entry.image,
    });
  }
  const answer: ReviewCase = {
    runId: ref.runId,
    candidateId: ref.candidateId,
    caseId,
    labels: opened.manifest.labels,
    image: volumeData(image),
    label: volumeData(label),
    prediction: volumeData(prediction),
  };
  const cine = await cineInfo(entry);
  if (cine) answer.cine = cine;
  return answer;
}

/** The candidate's prediction of one validation case alone (e.g. a second candidate's, to compare). */
export async function reviewPrediction(ref: CandidateRef, caseId: string): Promise<VolumeData> {
  return volumeData(await predictionOf(await openCandidate(ref), caseId));
}

export async function reviewCine(ref: CandidateRef, caseId: string, slice: number): Promise<CineSlice> {
  const opened = await openCandidate(ref);
  return cineSlice(validationCase(opened, caseId), slice);
}

/** The last cine opened: scrolling through slices reads one file many times. */
let lastCine: { file: string; opened: Promise<VolumeFile> } | undefined;

/** One slice of the patient's cine through every frame. */
export async function cineSlice(
  entry: Pick<CaseEntry, 'id' | 'cine' | 'info'>,
  slice: number,
): Promise<CineSlice> {
  const info = await cineInfo(entry);
  if (entry.cine === undefined || info === undefined) {
    throw new EmonasError(
      'not_found',
      `Case ${entry.id} has no cine: only ACDC cases come with their patient's 4D series.`,
    );
  }
  const file = entry.cine;
  if (lastCine?.file !== file) lastCine = { file, opened: openVolume(file) };
  let opened: VolumeFile;
  try {
    opened = await lastCine.opened;
  } catch (err) {
    lastCine = undefined;
    throw err;
  }
  const [width, height, slices] = opened.header.shape;
  if (slice >= slices) {
    throw new EmonasError(
      'bad_request',
      `The cine ${file} has slices 0 to ${slices - 1}; slice ${slice} does not exist.`,
      { file },
    );
  }
  const plane = width * height;
  const data = new Float32Array(plane * info.frames);
  for (let t = 0; t < info.frames; t++) {
    const frame = opened.readFrame(t).data;
    for (let p = 0; p < plane; p++) data[t * plane + p] = frame[slice * plane + p] as number;
  }
  const spacing = opened.header.spacing;
  return {
    caseId: entry.id,
    slice,
    slices,
    width,
    height,
    spacing: [spacing[0], spacing[1]],
    data,
    ...info,
  };
}
