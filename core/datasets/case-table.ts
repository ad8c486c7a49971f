// Runs in: any process. The one internal case table every dataset kind imports into.
import type { Mat3, Vec3 } from '../io/volume.ts';

export type DatasetKind = 'msd' | 'acdc' | 'promise12';

export interface CaseProblem {
  /** A sentence a researcher can act on. */
  message: string;
  /** The file the problem is in (absolute path), or the folder when no file exists. */
  file: string;
}

export interface CaseEntry {
  /** Unique within the dataset, e.g. hippocampus_001, patient001_ED, Case00, test/Case00. */
  id: string;
  /** Grouping key for splits: the cases of one patient always land on the same side. */
  patient: string;
  /** ACDC cardiac phase. */
  phase?: 'ED' | 'ES';
  /**
   * test cases never enter training; most carry no label (MSD imagesTs, PROMISE12 TestData), but the ACDC
   * re-release ships ground truth for its testing/ patients, kept for evaluation.
   */
  subset: 'train' | 'test';
  /** Absolute paths. */
  image: string;
  label?: string;
  /** ACDC: the patient's 4D cine, kept for viewing, never trained on. */
  cine?: string;
  /** ACDC: the patient's Info.cfg as read (ED, ES, Group, Height, NbFrame, Weight), e.g. to stratify splits. */
  info?: Record<string, string>;
  /** Geometry of the image, when it could be read. */
  shape?: Vec3;
  spacing?: Vec3;
  origin?: Vec3;
  direction?: Mat3;
  ok: boolean;
  problems: CaseProblem[];
}

export interface DatasetManifest {
  kind: DatasetKind;
  /** Absolute path of the folder the user pointed at. */
  root: string;
  name: string;
  /** Label value -> name, background included. */
  labels: Record<number, string>;
  cases: CaseEntry[];
  /** Problems that concern the dataset as a whole (e.g. dataset.json lists a file that is absent). */
  problems: CaseProblem[];
  /** True when the user allowed symbolic links out of the folder: its cases are read through them. */
  allowLinks?: boolean;
}
