// Runs in: the engine. Evaluates a folder of predicted label maps against ground truth (a plain folder of
// label maps or a dataset folder) with the challenge metrics of core/metrics, as plain functions on
// JSON-able data; `emonas evaluate`, the review and the benchmarks call the same one.
import { basename } from 'node:path';
import { EmonasError, toErrorData } from '../../base/errors.ts';
import type { DatasetKind } from '../../datasets/case-table.ts';
import { DIRECTION_TOLERANCE, ORIGIN_TOLERANCE, SPACING_TOLERANCE } from '../../datasets/grid.ts';
import { scanLabelValues, toIntegerLabels } from '../../datasets/labels.ts';
import { readVolume } from '../../io/volume-files.ts';
import type { Volume } from '../../io/volume.ts';
import { acdcReport } from '../acdc.ts';
import { METRIC_FIELDS, summariseStructures, type MetricField } from '../aggregate.ts';
import { decathlonReport } from '../decathlon.ts';
import { hd95Definition, METRIC_DEFINITIONS } from '../definitions.ts';
import { EMPTY_MASK_POLICY } from '../empty-policy.ts';
import {
  absentFromBoth,
  compareLabels,
  DEFAULT_METRIC_OPTIONS,
  type LabelMetrics,
  type MetricOptions,
} from '../label-metrics.ts';
import { promise12Regions, promise12Report, type Promise12Region } from '../promise12.ts';
import type { Hd95Definition } from '../surface-distance.ts';
import { readGroundTruth, requireFolder, volumeFiles, type GroundTruthCase } from './ground-truth.ts';
import type { CaseInfo, EvaluationProblem, EvaluationReport } from './report.ts';

export interface EvaluateRequest {
  /** Folder of predicted label maps, named like the ground truth's images or label maps. */
  pred: string;
  /** Folder of ground-truth label maps, or a dataset folder (MSD, ACDC, PROMISE12). */
  gt: string;
  /** Read ground-truth label maps through symbolic links that lead out of the `gt` folder. */
  allowLinks?: boolean;
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
  const truth = await readGroundTruth(gtRoot, request.datasetKind, request.allowLinks === true);
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
    // Every reason is named, not just the first: each may need its own fix.
    const reasons = problems.map((p) => `\n  - ${p.message}`).join('');
    throw new EmonasError(
      'not_found',
      pairs.length === 0
        ? `No prediction in ${predRoot} pairs with a ground-truth case in ${gtRoot}; name each prediction like its image or label map (e.g. hippocampus_001.nii.gz).${reasons}`
        : `No case could be evaluated (${problems.length} problem(s)):${reasons}`,
      { file: problems[0]?.file ?? predRoot, details: { problems } },
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
