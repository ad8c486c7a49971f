// Runs in: the engine. `emonas evaluate` wired to core/metrics/evaluation, with the names the command's
// tables print (the ACDC clinical indices, the PROMISE12 regions), so the command line, a client of the
// engine like the app, reaches the evaluation through the service.
export { CLINICAL_INDICES, type ClinicalIndex } from '../metrics/acdc.ts';
export type { Summary } from '../metrics/aggregate.ts';
export { evaluatePredictions } from '../metrics/evaluation/evaluate-folder.ts';
export { saveEvaluationCsv, type EvaluationReport } from '../metrics/evaluation/report.ts';
export { PROMISE12_REGIONS } from '../metrics/promise12.ts';
export type { Hd95Definition } from '../metrics/surface-distance.ts';
