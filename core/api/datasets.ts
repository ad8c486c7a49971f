// Runs in: any process. What the API says about datasets: the inspection report, the library of imported
// datasets, and a case's voxels for the viewer. The report is core/datasets' case table and summary and a
// volume is core/io's, imported as types only: erased from the bundle, so the renderer still loads nothing
// but core/api and core/base.
import type { CaseProblem, DatasetKind } from '../datasets/case-table.ts';
import type { Volume } from '../io/volume.ts';

export type { DatasetKind } from '../datasets/case-table.ts';
export type { DatasetReport, Spread } from '../datasets/summary.ts';
export type { Mat3, Vec3 } from '../io/volume.ts';

/** A problem found in a dataset: a sentence a researcher can act on, and the file it concerns. */
export type Problem = CaseProblem;

/** A dataset in the engine's library: a name for a folder that was inspected and accepted. */
export interface DatasetRecord {
  name: string;
  kind: DatasetKind;
  /** Where the cases are read from: the user's folder, or the library's copy when one was asked for. */
  root: string;
  /** True when the library holds its own copy of the files. */
  copied: boolean;
  /** True when it was imported allowing symbolic links out of its folder; its cases are read through them. */
  allowLinks?: boolean;
  labels: Record<number, string>;
  usable: number;
  broken: number;
  /** ISO 8601. */
  importedAt: string;
}

export interface CaseVolume {
  datasetName: string;
  caseId: string;
  image: VolumeData;
  label?: VolumeData;
}

/**
 * A volume as it crosses the API: voxels as a typed array (structured clone over IPC, a binary frame over
 * the WebSocket) with its geometry in LPS millimetres; voxel (i, j, k) is at data[i + nx * (j + ny * k)].
 * The stored voxel type stays in the engine.
 */
export type VolumeData = Omit<Volume, 'dataType'>;
