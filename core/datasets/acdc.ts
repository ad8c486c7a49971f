// Runs in: the engine. Reads an ACDC tree into the case table: the current `database/training|testing`
// layout, the older top-level `training/ testing/`, or a folder of patientNNN folders. One case per
// annotated phase (patient001_ED, patient001_ES), frames chosen by Info.cfg and never by file order.
import { readFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { FileScope } from '../io/file-scope.ts';
import type { CaseEntry, CaseProblem, DatasetManifest } from './case-table.ts';
import { describeFsError, displayPath, isFolder, listFolder, outsideProblem } from './files.ts';
import { parseInfoCfg } from './info-cfg.ts';
import { ACDC_LABELS } from './labels.ts';

interface PatientFolder {
  path: string;
  name: string;
  subset: 'train' | 'test';
}

const PATIENT = /^patient\d+$/i;
const FRAME = /^(.+)_frame(\d+)(_gt)?\.nii(\.gz)?$/i;
const CINE = /_4d\.nii(\.gz)?$/i;

/**
 * The patient folders of an ACDC tree at `root`, or null when the folder does not look like ACDC. testing/
 * patients form the test subset (the re-release ships their ground truth; it is kept for evaluation).
 */
export async function findAcdcPatients(root: string): Promise<PatientFolder[] | null> {
  if (PATIENT.test(basename(root)) && (await listFolder(root)).some((e) => e.name === 'Info.cfg')) {
    return [{ path: root, name: basename(root), subset: 'train' }];
  }
  const containers: { path: string; subset: 'train' | 'test' }[] = [];
  for (const base of [join(root, 'database'), root]) {
    for (const [name, subset] of [
      ['training', 'train'],
      ['testing', 'test'],
    ] as const) {
      if (await isFolder(join(base, name))) containers.push({ path: join(base, name), subset });
    }
    if (containers.length > 0) break;
  }
  if (containers.length === 0) {
    containers.push({ path: root, subset: basename(root).toLowerCase() === 'testing' ? 'test' : 'train' });
  }
  const patients: PatientFolder[] = [];
  for (const container of containers) {
    for (const entry of await listFolder(container.path)) {
      if (entry.kind === 'folder' && PATIENT.test(entry.name)) {
        patients.push({ path: entry.path, name: entry.name, subset: container.subset });
      }
    }
  }
  return patients.length > 0 ? patients : null;
}

export async function readAcdcDataset(scope: FileScope, patients: PatientFolder[]): Promise<DatasetManifest> {
  const { root } = scope;
  const cases: CaseEntry[] = [];
  const problems: CaseProblem[] = [];
  for (const patient of patients) {
    const result = await readPatient(scope, patient);
    if ('problem' in result) problems.push(result.problem);
    else cases.push(...result.cases);
  }
  // The cine is only ever viewed, so one that lies outside the folder is left out, not the patient's cases.
  for (const entry of cases) {
    if (entry.cine === undefined) continue;
    const outside = await outsideProblem(scope, entry.cine);
    if (outside === null) continue;
    delete entry.cine;
    if (!problems.some((p) => p.file === outside.file)) problems.push(outside);
  }
  return { kind: 'acdc', root, name: 'ACDC', labels: { ...ACDC_LABELS }, cases, problems };
}

async function readPatient(
  scope: FileScope,
  patient: PatientFolder,
): Promise<{ cases: CaseEntry[] } | { problem: CaseProblem }> {
  const { root } = scope;
  const infoFile = join(patient.path, 'Info.cfg');
  const outside = await outsideProblem(scope, infoFile);
  if (outside) {
    return { problem: { ...outside, message: `${outside.message} ${patient.name} is left out.` } };
  }
  let text: string;
  try {
    text = await readFile(infoFile, 'utf8');
  } catch (err) {
    const reason =
      (err as { code?: unknown }).code === 'ENOENT'
        ? `${displayPath(root, infoFile)} is missing, so the ED and ES frames of ${patient.name} are unknown and the patient is left out.`
        : `${describeFsError(err, root, infoFile)} The ED and ES frames of ${patient.name} are unknown and the patient is left out.`;
    return { problem: { message: reason, file: infoFile } };
  }
  const info = parseInfoCfg(text);
  if (info.ed === undefined || info.es === undefined) {
    return {
      problem: {
        message: `${displayPath(root, infoFile)} does not give the ED and ES frame numbers (lines like "ED: 1" and "ES: 12"), so ${patient.name} is left out.`,
        file: infoFile,
      },
    };
  }

  const frames = new Map<number, { image?: string; label?: string }>();
  let cine: string | undefined;
  for (const entry of await listFolder(patient.path)) {
    if (CINE.test(entry.name)) {
      cine = entry.path;
      continue;
    }
    const m = FRAME.exec(entry.name);
    if (!m) continue;
    const frame = Number(m[2]);
    const slot = frames.get(frame) ?? {};
    if (m[3]) slot.label = entry.path;
    else slot.image = entry.path;
    frames.set(frame, slot);
  }

  const cases: CaseEntry[] = [];
  for (const [phase, frame] of [
    ['ED', info.ed],
    ['ES', info.es],
  ] as const) {
    const id = `${patient.subset === 'test' ? 'test/' : ''}${patient.name}_${phase}`;
    const slot = frames.get(frame) ?? {};
    const stem = join(patient.path, `${patient.name}_frame${String(frame).padStart(2, '0')}`);
    const image = slot.image ?? `${stem}.nii.gz`;
    const entry: CaseEntry = {
      id,
      patient: patient.name,
      phase,
      subset: patient.subset,
      image,
      ok: true,
      problems: [],
    };
    entry.info = info.values;
    if (cine !== undefined) entry.cine = cine;
    if (slot.image === undefined) {
      entry.problems.push({
        message: `${displayPath(root, image)} is missing, but ${displayPath(root, infoFile)} gives ${phase}: ${frame}; the ${phase} frame cannot be used.`,
        file: image,
      });
    }
    if (slot.label !== undefined) entry.label = slot.label;
    else if (patient.subset === 'train') {
      entry.label = `${stem}_gt.nii.gz`;
      entry.problems.push({
        message: `${displayPath(root, entry.label)}, the label map of the ${phase} frame, is missing.`,
        file: entry.label,
      });
    }
    if (info.nbFrame !== undefined && frame > info.nbFrame) {
      entry.problems.push({
        message: `${displayPath(root, infoFile)} gives ${phase}: ${frame} but NbFrame: ${info.nbFrame}; correct the frame number.`,
        file: infoFile,
      });
    }
    cases.push(entry);
  }
  return { cases };
}
