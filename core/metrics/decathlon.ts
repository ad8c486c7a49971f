// Runs in: any process. The Medical Segmentation Decathlon report: Dice and normalised surface Dice per
// label, with the tolerance they were computed at stored beside them.
import { summarise, type CaseMetrics, type Summary } from './aggregate.ts';

export interface DecathlonReport {
  /** Surface Dice tolerance in mm. */
  tau: number;
  perLabel: Record<string, { dice: Summary; nsd: Summary }>;
}

export function decathlonReport(
  cases: readonly CaseMetrics[],
  names: readonly string[],
  tau: number,
): DecathlonReport {
  const perLabel: DecathlonReport['perLabel'] = {};
  for (const name of names) {
    const rows = cases.flatMap((c) => (c.structures[name] ? [c.structures[name]] : []));
    perLabel[name] = { dice: summarise(rows.map((r) => r.dice)), nsd: summarise(rows.map((r) => r.nsd)) };
  }
  return { tau, perLabel };
}
