// Runs in: any process. Summaries over cases: mean, standard deviation and median, with the count.
import type { LabelMetrics } from './label-metrics.ts';

export interface Summary {
  mean: number;
  /** Sample standard deviation (n − 1 in the denominator); 0 for a single case. */
  std: number;
  median: number;
  n: number;
}

/** Summary of finite values; an empty list gives zeros with n = 0 rather than NaN. */
export function summarise(values: readonly number[]): Summary {
  const n = values.length;
  if (n === 0) return { mean: 0, std: 0, median: 0, n: 0 };
  let sum = 0;
  for (const v of values) sum += v;
  const mean = sum / n;
  let squares = 0;
  for (const v of values) squares += (v - mean) * (v - mean);
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(n / 2);
  const median = n % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  return { mean, std: n > 1 ? Math.sqrt(squares / (n - 1)) : 0, median, n };
}

/** Summaries of the chosen numeric fields of a list of records. */
export function summariseFields<T extends object, K extends keyof T & string>(
  rows: readonly T[],
  fields: readonly K[],
): Record<K, Summary> {
  const out = {} as Record<K, Summary>;
  for (const field of fields) out[field] = summarise(rows.map((r) => Number(r[field])));
  return out;
}

/** Pearson correlation; null when fewer than two values or either side is constant. */
export function pearson(x: readonly number[], y: readonly number[]): number | null {
  const n = Math.min(x.length, y.length);
  if (n < 2) return null;
  const mx = summarise(x.slice(0, n)).mean;
  const my = summarise(y.slice(0, n)).mean;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    const dx = x[i]! - mx;
    const dy = y[i]! - my;
    sxy += dx * dy;
    sxx += dx * dx;
    syy += dy * dy;
  }
  if (sxx === 0 || syy === 0) return null;
  return sxy / Math.sqrt(sxx * syy);
}

/** The numeric fields of LabelMetrics, in the order tables print them. */
export const METRIC_FIELDS = [
  'dice',
  'jaccard',
  'sensitivity',
  'precision',
  'volumeReference',
  'volumePrediction',
  'arvd',
  'hd',
  'hd95',
  'assd',
  'nsd',
] as const satisfies readonly (keyof LabelMetrics)[];

export type MetricField = (typeof METRIC_FIELDS)[number];

/** One case's metrics, keyed by structure name. */
export interface CaseMetrics {
  id: string;
  structures: Record<string, LabelMetrics>;
}

/** Per structure name, a summary of every metric over the cases that have that structure. */
export function summariseStructures(
  cases: readonly CaseMetrics[],
  names: readonly string[],
): Record<string, Record<MetricField, Summary>> {
  const out: Record<string, Record<MetricField, Summary>> = {};
  for (const name of names) {
    const rows = cases.flatMap((c) => (c.structures[name] ? [c.structures[name]] : []));
    out[name] = summariseFields(rows, METRIC_FIELDS);
  }
  return out;
}
