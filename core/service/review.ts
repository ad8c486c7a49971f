// Runs in: the engine. Reviewing a trained candidate as plain functions on JSON-able data: its predictions on
// the validation cases of its split (review-predictions.ts), their metrics against the ground truth
// (core/metrics, cached in the candidate's folder under the same weights stamp), the volumes the viewer
// shows side by side, and an ACDC patient's cine.
import { join } from 'node:path';
import type { VolumeData } from '../api/datasets.ts';
import type {
  CandidateReview,
  CineInfo,
  CineSlice,
  ReviewCase,
  ReviewedCase,
  ScoreName,
  StructureScores,
} from '../api/review.ts';
import { EmonasError } from '../base/errors.ts';
import type { CaseEntry } from '../datasets/case-table.ts';
import type { FileScope } from '../io/file-scope.ts';
import { toIntegerLabels } from '../datasets/labels.ts';
import { loadCase } from '../datasets/load-case.ts';
import { readJson, writeJsonAtomic } from '../io/files.ts';
import { openVolume, readVolume, readVolumeHeader } from '../io/volume-files.ts';
import type { VolumeFile } from '../io/volume-header.ts';
import type { Volume } from '../io/volume.ts';
import { evaluatePredictions } from '../metrics/evaluation/evaluate-folder.ts';
import type { EvaluationReport } from '../metrics/evaluation/report.ts';
import {
  openCandidate,
  validationCase,
  type CandidateRef,
  type OpenedCandidate,
} from './review-candidate.ts';
import { postprocessingStatus } from './postprocessing-status.ts';
import { ensurePredictions, REVIEW_FILES, type ReviewHooks } from './review-predictions.ts';
import { volumeData } from './volume-data.ts';

interface MetricsCache {
  format: 'emonas-review-1';
  model: string;
  cases: string[];
  report: EvaluationReport;
}

function scores(value: unknown): StructureScores {
  return value as StructureScores;
}

export function toReviewedCases(report: EvaluationReport): ReviewedCase[] {
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
    // As reviewCase: training already applied the user's choice about links to these cases.
    allowLinks: true,
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
    postprocessing: postprocessingStatus(opened.card, true),
    problems: [...problems, ...report.problems],
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

/**
 * ACDC: the frame count of the patient's cine and its ED and ES frames (1-based, from Info.cfg). The cine is
 * read only inside `scope`, the dataset folder: a stored report (hand-edited, say) may name any file.
 */
export async function cineInfo(
  entry: Pick<CaseEntry, 'cine' | 'info'>,
  scope: FileScope,
): Promise<CineInfo | undefined> {
  if (entry.cine === undefined) return undefined;
  const frames = (await readVolumeHeader(entry.cine, { scope })).frames;
  return { frames, ed: Number(entry.info?.ED ?? 0), es: Number(entry.info?.ES ?? 0) };
}

/** A validation case as the viewer shows it: image, ground truth and prediction on one grid. */
export async function reviewCase(ref: CandidateRef, caseId: string): Promise<ReviewCase> {
  const opened = await openCandidate(ref);
  const entry = validationCase(opened, caseId);
  const prediction = await predictionOf(opened, caseId);
  // Inside the dataset folder only; links are followed, since training (which chose this validation case)
  // already applied the user's choice about them and the split does not record it.
  const scope: FileScope = { root: opened.manifest.root, allowLinks: true };
  const { image, label } = await loadCase(entry, scope);
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
  const cine = await cineInfo(entry, scope);
  if (cine) answer.cine = cine;
  return answer;
}

/** The candidate's prediction of one validation case alone (e.g. a second candidate's, to compare). */
export async function reviewPrediction(ref: CandidateRef, caseId: string): Promise<VolumeData> {
  return volumeData(await predictionOf(await openCandidate(ref), caseId));
}

export async function reviewCine(ref: CandidateRef, caseId: string, slice: number): Promise<CineSlice> {
  const opened = await openCandidate(ref);
  // As reviewCase: inside the dataset folder, links followed.
  return cineSlice(validationCase(opened, caseId), slice, { root: opened.manifest.root, allowLinks: true });
}

/** The last cine opened: scrolling through slices reads one file many times. */
let lastCine: { file: string; opened: Promise<VolumeFile> } | undefined;

/**
 * One slice of the patient's cine through every frame, read only inside `scope`. cineInfo checks the scope
 * on every call, before the cache of the last cine opened is consulted.
 */
export async function cineSlice(
  entry: Pick<CaseEntry, 'id' | 'cine' | 'info'>,
  slice: number,
  scope: FileScope,
): Promise<CineSlice> {
  const info = await cineInfo(entry, scope);
  if (entry.cine === undefined || info === undefined) {
    throw new EmonasError(
      'not_found',
      `Case ${entry.id} has no cine: only ACDC cases come with their patient's 4D series.`,
    );
  }
  const file = entry.cine;
  if (lastCine?.file !== file) lastCine = { file, opened: openVolume(file, { scope }) };
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
