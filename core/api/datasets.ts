// Runs in: any process. What the API says about datasets: the inspection report, the library of imported
// datasets, and a case's voxels for the viewer. These mirror core/datasets' case table as plain data, because
// core/api may import core/base only (the service layer is type-checked against both).

export type DatasetKind = 'msd' | 'acdc' | 'promise12';

export type Vec3 = [number, number, number];
export type Mat3 = [number, number, number, number, number, number, number, number, number];

export interface Problem {
  /** A sentence a researcher can act on. */
  message: string;
  /** The file (or folder) it concerns. */
  file: string;
}

export interface CaseReport {
  id: string;
  patient: string;
  phase?: 'ED' | 'ES';
  subset: 'train' | 'test';
  image: string;
  label?: string;
  /** ACDC: the patient's 4D cine, for viewing only. */
  cine?: string;
  /** ACDC: the patient's Info.cfg entries. */
  info?: Record<string, string>;
  shape?: Vec3;
  spacing?: Vec3;
  ok: boolean;
  problems: Problem[];
}

/** What inspecting a dataset folder found, with nothing written anywhere. */
export interface DatasetReport {
  kind: DatasetKind;
  root: string;
  name: string;
  /** Label value -> name, background included (JSON object keys are the values as text). */
  labels: Record<number, string>;
  cases: CaseReport[];
  problems: Problem[];
  summary: DatasetSummary;
}

export interface DatasetSummary {
  cases: number;
  /** Readable training cases with a label map: what training can use. */
  usable: number;
  /** Readable test cases, held apart and never trained on. */
  test: number;
  /** Cases with at least one problem. */
  broken: number;
  /** Problems over all cases plus those of the dataset as a whole. */
  problems: number;
  /** Per voxel axis, over the cases whose image could be read (voxels; mm per voxel). */
  shape?: Spread;
  spacing?: Spread;
}

export interface Spread {
  min: Vec3;
  median: Vec3;
  max: Vec3;
}

/** A dataset in the engine's library: a name for a folder that was inspected and accepted. */
export interface DatasetRecord {
  name: string;
  kind: DatasetKind;
  /** Where the cases are read from: the user's folder, or the library's copy when one was asked for. */
  root: string;
  /** True when the library holds its own copy of the files. */
  copied: boolean;
  labels: Record<number, string>;
  usable: number;
  broken: number;
  /** ISO 8601. */
  importedAt: string;
}

export type VoxelData =
  Uint8Array | Int8Array | Uint16Array | Int16Array | Uint32Array | Int32Array | Float32Array | Float64Array;

export interface CaseVolume {
  datasetName: string;
  caseId: string;
  image: VolumeData;
  label?: VolumeData;
}

/**
 * A volume as it crosses the API: voxels as a typed array (structured clone over IPC, a binary frame over
 * the WebSocket) with its geometry in LPS millimetres; voxel (i, j, k) is at data[i + nx * (j + ny * k)].
 */
export interface VolumeData {
  data: VoxelData;
  shape: Vec3;
  spacing: Vec3;
  origin: Vec3;
  direction: Mat3;
}
