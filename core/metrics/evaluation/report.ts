// Runs in: the engine. The report of an evaluation of a prediction folder (what `emonas evaluate --json`
// prints and the review shows), and its per-case table as CSV.
import { writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { EmonasError } from '../../base/errors.ts';
import type { DatasetKind } from '../../datasets/case-table.ts';
import type { AcdcReport } from '../acdc.ts';
import type { MetricField, Summary } from '../aggregate.ts';
import { metricsCsv, type CsvRow } from '../csv.ts';
import type { DecathlonReport } from '../decathlon.ts';
import type { METRIC_DEFINITIONS } from '../definitions.ts';
import type { EMPTY_MASK_POLICY } from '../empty-policy.ts';
import type { LabelMetrics } from '../label-metrics.ts';
import { PROMISE12_REGIONS, type Promise12Report } from '../promise12.ts';
import type { Hd95Definition } from '../surface-distance.ts';

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
