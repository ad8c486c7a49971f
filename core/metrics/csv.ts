// Runs in: any process. The per-case metric table as CSV: one row per case, structure and region, so a
// spreadsheet or pandas can pivot it any way.
import type { LabelMetrics } from './label-metrics.ts';

export interface CsvRow {
  case: string;
  patient?: string;
  phase?: string;
  structure: string;
  /** 'whole' except PROMISE12's apex and base. */
  region: string;
  metrics: LabelMetrics;
}

const COLUMNS = [
  'case',
  'patient',
  'phase',
  'structure',
  'region',
  'dice',
  'jaccard',
  'sensitivity',
  'precision',
  'volume_reference_ml',
  'volume_prediction_ml',
  'arvd_percent',
  'hd_mm',
  'hd95_mm',
  'assd_mm',
  'nsd',
  'nsd_tau_mm',
  'hd95_definition',
  'empty',
];

function quote(value: string): string {
  return /[",\n\r]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

export function metricsCsv(rows: readonly CsvRow[], tau: number, hd95: string): string {
  const lines = [COLUMNS.join(',')];
  for (const r of rows) {
    const m = r.metrics;
    const cells = [
      r.case,
      r.patient ?? '',
      r.phase ?? '',
      r.structure,
      r.region,
      m.dice,
      m.jaccard,
      m.sensitivity,
      m.precision,
      m.volumeReference,
      m.volumePrediction,
      m.arvd,
      m.hd,
      m.hd95,
      m.assd,
      m.nsd,
      tau,
      hd95,
      m.empty,
    ];
    lines.push(cells.map((c) => quote(String(c))).join(','));
  }
  return lines.join('\n') + '\n';
}
