// Runs in: the engine. Detects a dataset folder, reads its case table and validates every case's files.
import { readVolume, verifyVolume } from '../io/volume-files.ts';
import type { DatasetManifest } from './case-table.ts';
import { readDatasetLayout, type LayoutOptions } from './detect.ts';
import { validateCase, type VolumeReaders } from './validate.ts';

export interface ImportOptions extends LayoutOptions {
  /**
   * How files are read; by default each image is read through without being kept (verifyVolume) and each
   * label map is read whole (readVolume), so memory stays within a few declared volumes.
   */
  read?: VolumeReaders;
  /** Called after each case is validated. */
  onProgress?: (done: number, total: number, caseId: string) => void;
  /** Cases read at once; a few overlap file reads with decompression on Node's thread pool. */
  concurrency?: number;
}

const READERS: VolumeReaders = { header: verifyVolume, volume: readVolume };

export async function importDataset(folder: string, options: ImportOptions = {}): Promise<DatasetManifest> {
  const manifest = await readDatasetLayout(folder, options.allowLinks ? { allowLinks: true } : {});
  const scope = { root: manifest.root, allowLinks: options.allowLinks === true };
  const { cases } = manifest;
  let next = 0;
  let done = 0;
  const worker = async (): Promise<void> => {
    while (next < cases.length) {
      const entry = cases[next++];
      if (entry === undefined) continue;
      await validateCase(entry, manifest.labels, scope, options.read ?? READERS);
      options.onProgress?.(++done, cases.length, entry.id);
    }
  };
  const concurrency = Math.max(1, options.concurrency ?? 4);
  await Promise.all(Array.from({ length: Math.min(concurrency, cases.length) }, worker));
  return manifest;
}
