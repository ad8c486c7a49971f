// Runs in: the engine. Dataset inspection and case loading as plain functions on JSON-able data; the emonas
// command and the desktop app (over IPC) call the same ones.
import { importDataset } from '../datasets/import.ts';
import { summarizeDataset, type DatasetReport } from '../datasets/summary.ts';

export type { DatasetReport, DatasetSummary } from '../datasets/summary.ts';
export { loadCase } from '../datasets/load-case.ts';

export interface InspectOptions {
  /** Follow symbolic links out of the folder, as the user explicitly allowed (--allow-links). */
  allowLinks?: boolean;
  /** Called after each case's files are read. */
  onProgress?: (done: number, total: number, caseId: string) => void;
}

/**
 * Detects the dataset in `folder`, reads every case's files (label voxels included) and reports the case
 * table with each case's problems, plus a summary. Throws only when the folder is missing or is not a
 * dataset at all; a broken case is reported, never thrown.
 */
export async function inspectDataset(folder: string, options: InspectOptions = {}): Promise<DatasetReport> {
  const importOptions: Parameters<typeof importDataset>[1] = {};
  if (options.onProgress) importOptions.onProgress = options.onProgress;
  if (options.allowLinks) importOptions.allowLinks = true;
  const manifest = await importDataset(folder, importOptions);
  return { ...manifest, summary: summarizeDataset(manifest) };
}
