// Runs in: the engine. Dataset inspection and case loading as plain functions on JSON-able data; the emonas
// command and the desktop app (over IPC) call the same ones.
import { EmonasError } from '../base/errors.ts';
import { openVolume, readVolume } from '../io/volume-files.ts';
import type { Volume } from '../io/volume.ts';
import type { CaseEntry } from '../datasets/case-table.ts';
import { gridDifferences } from '../datasets/grid.ts';
import { importDataset } from '../datasets/import.ts';
import { toIntegerLabels } from '../datasets/labels.ts';
import { summarizeDataset, type DatasetReport } from '../datasets/summary.ts';
import { readFailure } from '../datasets/validate.ts';

export type { DatasetReport, DatasetSummary } from '../datasets/summary.ts';

export interface InspectOptions {
  /** Called after each case's files are read. */
  onProgress?: (done: number, total: number, caseId: string) => void;
}

/**
 * Detects the dataset in `folder`, reads every case's files (label voxels included) and reports the case
 * table with each case's problems, plus a summary. Throws only when the folder is missing or is not a
 * dataset at all; a broken case is reported, never thrown.
 */
export async function inspectDataset(folder: string, options: InspectOptions = {}): Promise<DatasetReport> {
  const importOptions: Parameters<typeof importDataset>[1] = {
    read: { header: async (file) => (await openVolume(file)).header, volume: readVolume },
  };
  if (options.onProgress) importOptions.onProgress = options.onProgress;
  const manifest = await importDataset(folder, importOptions);
  return { ...manifest, summary: summarizeDataset(manifest) };
}

/**
 * A case's image and, when it has one, its label map with class numbers as integers (Uint8Array when every
 * value fits in 0..255) on the image's grid, ready for training.
 */
export async function loadCase(entry: CaseEntry): Promise<{ image: Volume; label?: Volume }> {
  const image = await readOrThrow(entry.image);
  if (entry.label === undefined) return { image };
  const label = toIntegerLabels(await readOrThrow(entry.label), entry.label);
  const differences = gridDifferences(image, label);
  if (differences.length > 0) {
    throw new EmonasError(
      'geometry_mismatch',
      `The label map ${entry.label} is not on the grid of its image ${entry.image}: ${differences.join('; ')}.`,
      { file: entry.label },
    );
  }
  return { image, label };
}

async function readOrThrow(file: string): Promise<Volume> {
  try {
    return await readVolume(file);
  } catch (err) {
    if (err instanceof EmonasError) throw err;
    throw new EmonasError('unreadable_file', readFailure(err, '', file), { file, cause: err });
  }
}
