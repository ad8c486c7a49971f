// Runs in: the engine. Evaluates a folder of predicted label maps against ground truth (a plain folder of
// label maps or a dataset folder) with the challenge metrics of core/metrics, as plain functions on
// JSON-able data; the emonas command and the desktop app (over IPC) call the same ones.
import { readFile, readdir, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { EmonasError, toErrorData } from '../base/errors.ts';
import type { DatasetKind } from '../datasets/case-table.ts';
import { readDatasetLayout } from '../datasets/detect.ts';
import { isJunkName } from '../datasets/files.ts';
import { DIRECTION_TOLERANCE, ORIGIN_TOLERANCE, SPACING_TOLERANCE } from '../datasets/grid.ts';
import { ACDC_LABELS, PROMISE12_LABELS, scanLabelValues, toIntegerLabels } from '../datasets/labels.ts';
import { parseMsdDescription } from '../datasets/msd.ts';
import { stripVolumeExtension } from '../datasets/volume-names.ts';
import { readVolume } from '../io/volume-files.ts';
import type { Volume } from '../io/volume.ts';
import { acdcReport, type AcdcReport } from '../metrics/acdc.ts';
import { METRIC_FIELDS, summariseStructures, type MetricField, type Summary } from '../metrics/aggregate.ts';
import { metricsCsv, type CsvRow } from '../metrics/csv.ts';
import { decathlonReport, type DecathlonReport } from '../metrics/decathlon.ts';
import { hd95Definition, METRIC_DEFINITIONS } from '../metrics/definitions.ts';
import { EMPTY_MASK_POLICY } from '../metrics/empty-policy.ts';
import {
  absentFromBoth,
  compareLabels,
  DEFAULT_METRIC_OPTIONS,
  type LabelMetrics,
  type MetricOptions,
} from '../metrics/label-metrics.ts';
import {
  promise12Regions,
  promise12Report,
  PROMISE12_REGIONS,
  type Promise12Region,
  type Promise12Report,
} from '../metrics/promise12.ts';
import type { Hd95Definition } from '../metrics/surface-distance.ts';

export interface EvaluateRequest {
  /** Folder of predicted label maps, named like the ground truth's images or label maps. */
  pred: string;
  /** Folder of ground-truth label maps, or a dataset folder (MSD, ACDC, PROMISE12). */
  gt: string;
  /** Fixes the label names and the dataset-specific report; detected from a dataset folder otherwise. */
  datasetKind?: DatasetKind;
  /** Normalised surface Dice tolerance in mm (default 1). */
  tau?: number;
  hd95?: Hd95Definition;
}

export interface EvaluateOptions {
  /** Called after each case is evaluated (or found unusable). */
  onProgress?: (done: number, total: number, caseId: string) => void;
}

/** One entry of `perCase`: the case id and, per structure name, that structure's metrics. */
export interface PerCaseEntry {
  id: string;
  [structure: string]: LabelMetrics | string;
}

export interface CaseInfo {
  id: string;
  patient?: string;
  phase?: 'ED' | 'ES';
  prediction: string;
  groundTruth: string;
}

export interface EvaluationProblem {
  /** The case concerned, when the problem concerns one. */
  id?: string;
  file: string;
  message: string;
}

export interface EvaluationReport {
  datasetKind: DatasetKind | 'plain';
  pred: string;
  gt: string;
  options: { tau: number; hd95: Hd95Definition };
  /** Structure name -> label value. */
  labels: Record<string, number>;
  definitions: typeof METRIC_DEFINITIONS & { hd95: string };
  emptyMaskPolicy: typeof EMPTY_MASK_POLICY;
  perCase: PerCaseEntry[];
  /** Per structure name, the mean of every metric over the evaluated cases. */
  mean: Record<string, Record<MetricField, number>>;
  /** Per structure name, mean, standard deviation, median and n of every metric. */
  summary: Record<string, Record<MetricField, Summary>>;
  cases: CaseInfo[];
  /** Pairs that could not be evaluated (unreadable file, other grid, no ground truth): each names its file. */
  problems: EvaluationProblem[];
  /** Things evaluated anyway that a reader should know (e.g. a label value the dataset does not define). */
  warnings: EvaluationProblem[];
  /** Ground-truth cases for which the prediction folder holds no file; they are not evaluated. */
  missingPredictions: string[];
  msd?: DecathlonReport;
  acdc?: AcdcReport;
  promise12?: Promise12Report;
}

interface GroundTruthCase {
  id: string;
  label: string;
  patient?: string;
  phase?: 'ED' | 'ES';
  /** Names a prediction file may carry (without extension) to pair with this case. */
  keys: string[];
}

interface GroundTruth {
  kind: DatasetKind | 'plain';
  /** Value -> name, background excluded; undefined when the names come from the values found. */
  labels?: Record<number, string>;
  cases: GroundTruthCase[];
  problems: EvaluationProblem[];
}

/** Stem of a volume file name with the label-map suffixes the datasets use removed. */
function caseKey(stem: string): string {
  return stem.replace(/_(gt|segmentation)$/i, '');
}

function foregroundLabels(table: Record<number, string>): Record<number, string> {
  const out: Record<number, string> = {};
  for (const [value, name] of Object.entries(table)) if (Number(value) !== 0) out[Number(value)] = name;
  return out;
}

async function requireFolder(folder: string, flag: string): Promise<string> {
  const root = resolve(folder);
  let isDirectory = false;
  try {
    isDirectory = (await stat(root)).isDirectory();
  } catch {
    throw new EmonasError('not_found', `The ${flag} folder ${root} does not exist.`, { file: root });
  }
  if (!isDirectory) {
    throw new EmonasError('bad_request', `${root} is a file; ${flag} takes a folder of label maps.`, {
      file: root,
    });
  }
  return root;
}

/** Volume files directly in a folder, by stem; a stem found twice is a problem, not a guess. */
async function volumeFiles(
  root: string,
): Promise<{ files: Map<string, string>; problems: EvaluationProblem[] }> {
  const files = new Map<string, string>();
  const problems: EvaluationProblem[] = [];
  for (const name of (await readdir(root)).sort()) {
    const stem = stripVolumeExtension(name);
    if (stem === null || isJunkName(name)) continue;
    const file = join(root, name);
    const key = caseKey(stem);
    const earlier = files.get(key);
    if (earlier !== undefined) {
      problems.push({
        id: key,
        file,
        message: `${file} and ${basename(earlier)} both hold case ${key}; keep one of them.`,
      });
      continue;
    }
    files.set(key, file);
  }
  return { files, problems };
}

async function msdLabelsNear(root: string): Promise<Record<number, string> | undefined> {
  for (const folder of [root, dirname(root)]) {
    const file = join(folder, 'dataset.json');
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch {
      continue;
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw new EmonasError(
        'invalid_dataset',
        `${file} is not valid JSON, so its label names cannot be read.`,
        {
          file,
        },
      );
    }
    return foregroundLabels(parseMsdDescription(json, file).labels);
  }
  return undefined;
}

async function readGroundTruth(root: string, kind: DatasetKind | undefined): Promise<GroundTruth> {
  let manifest;
  try {
    manifest = await readDatasetLayout(root);
  } catch (err) {
    if (!(err instanceof EmonasError) || err.code !== 'invalid_dataset') throw err;
  }
  if (manifest) {
    if (kind !== undefined && kind !== manifest.kind) {
      throw new EmonasError(
        'bad_request',
        `--dataset-kind ${kind} was given but ${root} holds a ${manifest.kind} dataset; drop the flag or point --gt at the right folder.`,
        { file: root },
      );
    }
    const cases: GroundTruthCase[] = [];
    for (const entry of manifest.cases) {
      if (entry.label === undefined) continue;
      const imageStem = stripVolumeExtension(basename(entry.image));
      const labelStem = stripVolumeExtension(basename(entry.label));
      const keys = [entry.id, imageStem, labelStem === null ? null : caseKey(labelStem)];
      const c: GroundTruthCase = {
        id: entry.id,
        label: entry.label,
        patient: entry.patient,
        keys: [...new Set(keys.filter((k): k is string => k !== null))],
      };
      if (entry.phase) c.phase = entry.phase;
      cases.push(c);
    }
    return { kind: manifest.kind, labels: foregroundLabels(manifest.labels), cases, problems: [] };
  }
  const { files, problems } = await volumeFiles(root);
  const cases = [...files].map(([id, label]): GroundTruthCase => {
    const c: GroundTruthCase = { id, label, keys: [id] };
    const phase = /^(.*)_(ED|ES)$/i.exec(id);
    if (kind === 'acdc' && phase) {
      c.patient = phase[1]!;
      c.phase = phase[2]!.toUpperCase() as 'ED' | 'ES';
    } else if (kind === 'acdc') {
      c.patient = /^(patient\d+)/i.exec(id)?.[1] ?? id;
    }
    return c;
  });
  let labels: Record<number, string> | undefined;
  if (kind === 'acdc') labels = foregroundLabels(ACDC_LABELS);
  else if (kind === 'promise12') labels = foregroundLabels(PROMISE12_LABELS);
  else if (kind === 'msd') labels = await msdLabelsNear(root);
  return { kind: kind ?? 'plain', labels, cases, problems };
}

function round(v: number): string {
  return String(Math.round(v * 1e4) / 1e4);
}

/** Why the prediction is not on the ground truth's grid, one phrase per difference; empty when it is. */
function gridMismatch(gt: Volume, pred: Volume): string[] {
  const out: string[] = [];
  const list = (v: readonly number[]) => v.map(round).join(', ');
  if (!gt.shape.every((n, i) => n === pred.shape[i])) {
    out.push(`its shape is ${pred.shape.join(' x ')} voxels, the ground truth's ${gt.shape.join(' x ')}`);
  }
  if (!gt.spacing.every((s, i) => Math.abs(s - pred.spacing[i]!) <= SPACING_TOLERANCE * Math.abs(s))) {
    out.push(`its spacing is ${list(pred.spacing)} mm, the ground truth's ${list(gt.spacing)} mm`);
  }
  const originTolerance = ORIGIN_TOLERANCE * Math.min(...gt.spacing.map(Math.abs));
  if (!gt.origin.every((o, i) => Math.abs(o - pred.origin[i]!) <= originTolerance)) {
    out.push(`its origin is (${list(pred.origin)}) mm, the ground truth's (${list(gt.origin)}) mm`);
  }
  if (!gt.direction.every((d, i) => Math.abs(d - pred.direction[i]!) <= DIRECTION_TOLERANCE)) {
    out.push(
      `its axes point along (${list(pred.direction)}), the ground truth's along (${list(gt.direction)})`,
    );
  }
  return out;
}

function problemOf(err: unknown, id: string, file: string): EvaluationProblem {
  const data = toErrorData(err);
  const where = data.file ?? file;
  const message = data.message.includes(basename(where)) ? data.message : `${where}: ${data.message}`;
  return { id, file: where, message };
}

async function readLabelMap(file: string): Promise<Volume> {
  return toIntegerLabels(await readVolume(file), file);
}

interface EvaluatedCase {
  info: CaseInfo;
  /** Label value -> metrics. */
  byValue: Map<number, LabelMetrics>;
  regions?: Record<Promise12Region, LabelMetrics>;
}

/** Name under which a label value is reported; never 'id', which every perCase entry already holds. */
function structureName(table: Record<number, string> | undefined, value: number): string {
  const name = table?.[value] ?? `label_${value}`;
  return name === 'id' ? `id_label_${value}` : name;
}

/**
 * Pairs every prediction with its ground truth by case id, checks each pair lies on the same grid and
 * computes every metric per structure and case, plus the dataset's own report. A pair that cannot be
 * evaluated is listed in `problems` with its file; the others are still evaluated. Throws when no pair at
 * all can be evaluated.
 */
export async function evaluatePredictions(
  request: EvaluateRequest,
  options: EvaluateOptions = {},
): Promise<EvaluationReport> {
  const metricOptions: MetricOptions = {
    tau: request.tau ?? DEFAULT_METRIC_OPTIONS.tau,
    hd95: request.hd95 ?? DEFAULT_METRIC_OPTIONS.hd95,
  };
  if (!(metricOptions.tau >= 0) || !Number.isFinite(metricOptions.tau)) {
    throw new EmonasError('bad_request', `The surface Dice tolerance must be a number of mm, 0 or more.`);
  }
  const predRoot = await requireFolder(request.pred, '--pred');
  const gtRoot = await requireFolder(request.gt, '--gt');
  const truth = await readGroundTruth(gtRoot, request.datasetKind);
  const predictions = await volumeFiles(predRoot);
  const problems: EvaluationProblem[] = [...truth.problems, ...predictions.problems];
  const warnings: EvaluationProblem[] = [];

  const byKey = new Map<string, GroundTruthCase>();
  for (const c of truth.cases) for (const key of c.keys) if (!byKey.has(key)) byKey.set(key, c);
  const pairs: { truth: GroundTruthCase; prediction: string }[] = [];
  const paired = new Set<string>();
  for (const [key, file] of predictions.files) {
    const match = byKey.get(key);
    if (!match) {
      problems.push({
        id: key,
        file,
        message: `${file} has no ground truth: no label map for case ${key} in ${gtRoot}.`,
      });
    } else if (paired.has(match.id)) {
      problems.push({
        id: match.id,
        file,
        message: `${file} is a second prediction for case ${match.id}; keep one file per case.`,
      });
    } else {
      paired.add(match.id);
      pairs.push({ truth: match, prediction: file });
    }
  }
  const missingPredictions = truth.cases.filter((c) => !paired.has(c.id)).map((c) => c.id);

  const evaluated: EvaluatedCase[] = [];
  const seen = new Set<number>();
  let done = 0;
  for (const { truth: c, prediction } of pairs) {
    try {
      const [gt, pred] = await Promise.all([readLabelMap(c.label), readLabelMap(prediction)]);
      const mismatch = gridMismatch(gt, pred);
      if (mismatch.length > 0) {
        throw new EmonasError(
          'geometry_mismatch',
          `The prediction ${prediction} is not on the grid of its ground truth ${c.label}: ${mismatch.join('; ')}. ` +
            'Resample the prediction onto the ground truth’s grid (metrics are computed in native geometry).',
          { file: prediction },
        );
      }
      const values = new Set([...scanLabelValues(gt.data).values, ...scanLabelValues(pred.data).values]);
      values.delete(0);
      for (const v of values) seen.add(v);
      if (truth.labels) {
        const unknown = [...values].filter((v) => truth.labels?.[v] === undefined);
        if (unknown.length > 0) {
          warnings.push({
            id: c.id,
            file: prediction,
            message: `Case ${c.id} holds label value ${unknown.join(', ')}, which the dataset does not name; it is not evaluated.`,
          });
        }
      }
      const labels = truth.labels ? Object.keys(truth.labels).map(Number) : [...values];
      const info: CaseInfo = { id: c.id, prediction, groundTruth: c.label };
      if (c.patient !== undefined) info.patient = c.patient;
      if (c.phase !== undefined) info.phase = c.phase;
      const result: EvaluatedCase = { info, byValue: compareLabels(gt, pred, labels, metricOptions) };
      if (truth.kind === 'promise12') result.regions = promise12Regions(gt, pred, metricOptions);
      evaluated.push(result);
    } catch (err) {
      problems.push(problemOf(err, c.id, prediction));
    }
    options.onProgress?.(++done, pairs.length, c.id);
  }
  if (evaluated.length === 0) {
    const first = problems[0];
    throw new EmonasError(
      'not_found',
      pairs.length === 0
        ? `No prediction in ${predRoot} pairs with a ground-truth case in ${gtRoot}; name each prediction like its image or label map (e.g. hippocampus_001.nii.gz).`
        : `No case could be evaluated: ${first?.message ?? 'every pair failed'}`,
      { file: first?.file ?? predRoot },
    );
  }

  const values = truth.labels ? Object.keys(truth.labels).map(Number) : [...seen].sort((a, b) => a - b);
  const labels: Record<string, number> = {};
  for (const v of values) labels[structureName(truth.labels, v)] = v;
  const names = Object.keys(labels);
  const structuresOf = (e: EvaluatedCase): Record<string, LabelMetrics> => {
    const out: Record<string, LabelMetrics> = {};
    for (const name of names) out[name] = e.byValue.get(labels[name]!) ?? absentFromBoth();
    return out;
  };
  const tables = evaluated.map((e) => ({ ...e.info, structures: structuresOf(e) }));
  const summary = summariseStructures(tables, names);
  const mean: EvaluationReport['mean'] = {};
  for (const name of names) {
    const row = {} as Record<MetricField, number>;
    for (const field of METRIC_FIELDS) row[field] = summary[name]![field].mean;
    mean[name] = row;
  }
  const report: EvaluationReport = {
    datasetKind: truth.kind,
    pred: predRoot,
    gt: gtRoot,
    options: { tau: metricOptions.tau, hd95: metricOptions.hd95 },
    labels,
    definitions: { ...METRIC_DEFINITIONS, hd95: hd95Definition(metricOptions.hd95) },
    emptyMaskPolicy: EMPTY_MASK_POLICY,
    perCase: tables.map((t) => ({ id: t.id, ...t.structures })),
    mean,
    summary,
    cases: evaluated.map((e) => e.info),
    problems,
    warnings,
    missingPredictions,
  };
  if (truth.kind === 'msd') report.msd = decathlonReport(tables, names, metricOptions.tau);
  if (truth.kind === 'acdc') {
    report.acdc = acdcReport(tables.map((t) => ({ ...t, patient: t.patient ?? t.id })));
  }
  if (truth.kind === 'promise12') {
    report.promise12 = promise12Report(
      evaluated.flatMap((e) => (e.regions ? [{ id: e.info.id, regions: e.regions }] : [])),
    );
  }
  return report;
}

/** The per-case table of a report as CSV: one row per case and structure (and PROMISE12 region). */
export function evaluationCsv(report: EvaluationReport): string {
  const rows: CsvRow[] = [];
  const regions = new Map(report.promise12?.perCase.map((c) => [c.id, c.regions]));
  report.perCase.forEach((entry, n) => {
    const info = report.cases[n];
    const base = { case: entry.id, patient: info?.patient, phase: info?.phase };
    for (const name of Object.keys(report.labels)) {
      const metrics = entry[name];
      if (typeof metrics === 'object') rows.push({ ...base, structure: name, region: 'whole', metrics });
    }
    const caseRegions = regions.get(entry.id);
    if (caseRegions) {
      for (const region of PROMISE12_REGIONS.filter((r) => r !== 'whole')) {
        rows.push({ ...base, structure: 'prostate', region, metrics: caseRegions[region] });
      }
    }
  });
  return metricsCsv(rows, report.options.tau, report.options.hd95);
}

/** Writes the per-case CSV; the error names the file and says what to do when it cannot be written. */
export async function saveEvaluationCsv(report: EvaluationReport, file: string): Promise<string> {
  const path = resolve(file);
  try {
    await writeFile(path, evaluationCsv(report));
  } catch (err) {
    throw new EmonasError(
      'bad_request',
      `The per-case table cannot be written to ${path} (${(err as Error).message}); choose another file with --csv.`,
      { file: path, cause: err },
    );
  }
  return path;
}
