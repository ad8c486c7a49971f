// Runs in: the engine. Detects a dataset folder, reads its case table and validates every case's files.
import type { DatasetManifest } from './case-table.ts';
import { readDatasetLayout } from './detect.ts';
import { validateCase, type VolumeReaders } from './validate.ts';

export interface ImportOptions {
  read: VolumeReaders;
  /** Called after each case is validated. */
  onProgress?: (done: number, total: number, caseId: string) => void;
  /** Cases read at once; a few overlap file reads with decompression on Node's thread pool. */
  concurrency?: number;
}

export async function importDataset(folder: string, options: ImportOptions): Promise<DatasetManifest> {
  const manifest = await readDatasetLayout(folder);
  const { cases } = manifest;
  let next = 0;
  let done = 0;
  const worker = async (): Promise<void> => {
    while (next < cases.length) {
      const entry = cases[next++];
      if (entry === undefined) continue;
      await validateCase(entry, manifest.labels, manifest.root, options.read);
      options.onProgress?.(++done, cases.length, entry.id);
    }
  };
  const concurrency = Math.max(1, options.concurrency ?? 4);
  await Promise.all(Array.from({ length: Math.min(concurrency, cases.length) }, worker));
  return manifest;
}
