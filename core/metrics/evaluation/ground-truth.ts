// Runs in: the engine. The ground truth an evaluation compares with, read from a dataset folder (MSD, ACDC,
// PROMISE12, with its label names and cases) or a plain folder of label maps, and the volume files of a
// folder by case key, so predictions pair with their cases by name.
import { readFile, readdir, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { EmonasError } from '../../base/errors.ts';
import type { DatasetKind } from '../../datasets/case-table.ts';
import { readDatasetLayout } from '../../datasets/detect.ts';
import type { FileScope } from '../../io/file-scope.ts';
import { isJunkName, outsideProblem } from '../../datasets/files.ts';
import { ACDC_LABELS, PROMISE12_LABELS } from '../../datasets/labels.ts';
import { parseMsdDescription } from '../../datasets/msd.ts';
import { stripVolumeExtension } from '../../datasets/volume-names.ts';
import type { EvaluationProblem } from './report.ts';

export interface GroundTruthCase {
  id: string;
  label: string;
  patient?: string;
  phase?: 'ED' | 'ES';
  /** Names a prediction file may carry (without extension) to pair with this case. */
  keys: string[];
}

export interface GroundTruth {
  kind: DatasetKind | 'plain';
  /** Value -> name, background excluded; undefined when the names come from the values found. */
  labels?: Record<number, string>;
  cases: GroundTruthCase[];
  problems: EvaluationProblem[];
}

/** Stem of a volume file name with the label-map suffixes the datasets use removed. */
function caseKey(stem: string): string {
  return stem.replace(/_(gt|segmentation)$/i, '');
}

function foregroundLabels(table: Record<number, string>): Record<number, string> {
  const out: Record<number, string> = {};
  for (const [value, name] of Object.entries(table)) if (Number(value) !== 0) out[Number(value)] = name;
  return out;
}

export async function requireFolder(folder: string, flag: string): Promise<string> {
  const root = resolve(folder);
  let isDirectory = false;
  try {
    isDirectory = (await stat(root)).isDirectory();
  } catch {
    throw new EmonasError('not_found', `The ${flag} folder ${root} does not exist.`, { file: root });
  }
  if (!isDirectory) {
    throw new EmonasError('bad_request', `${root} is a file; ${flag} takes a folder of label maps.`, {
      file: root,
    });
  }
  return root;
}

/** Volume files directly in a folder, by stem; a stem found twice is a problem, not a guess. */
export async function volumeFiles(
  root: string,
): Promise<{ files: Map<string, string>; problems: EvaluationProblem[] }> {
  const files = new Map<string, string>();
  const problems: EvaluationProblem[] = [];
  for (const name of (await readdir(root)).sort()) {
    const stem = stripVolumeExtension(name);
    if (stem === null || isJunkName(name)) continue;
    const file = join(root, name);
    const key = caseKey(stem);
    const earlier = files.get(key);
    if (earlier !== undefined) {
      problems.push({
        id: key,
        file,
        message: `${file} and ${basename(earlier)} both hold case ${key}; keep one of them.`,
      });
      continue;
    }
    files.set(key, file);
  }
  return { files, problems };
}

async function msdLabelsNear(root: string): Promise<Record<number, string> | undefined> {
  for (const folder of [root, dirname(root)]) {
    const file = join(folder, 'dataset.json');
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch {
      continue;
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw new EmonasError(
        'invalid_dataset',
        `${file} is not valid JSON, so its label names cannot be read.`,
        {
          file,
        },
      );
    }
    return foregroundLabels(parseMsdDescription(json, file).labels);
  }
  return undefined;
}

/**
 * The ground truth in `root`. Its label maps are read only inside the folder, as at inspection: a path that
 * leaves it is a problem of its case, and so is a symbolic link out of it unless `allowLinks`.
 */
export async function readGroundTruth(
  root: string,
  kind: DatasetKind | undefined,
  allowLinks = false,
): Promise<GroundTruth> {
  const scope: FileScope = { root, allowLinks };
  let manifest;
  try {
    manifest = await readDatasetLayout(root, { allowLinks });
  } catch (err) {
    if (!(err instanceof EmonasError) || err.code !== 'invalid_dataset') throw err;
  }
  if (manifest) {
    if (kind !== undefined && kind !== manifest.kind) {
      throw new EmonasError(
        'bad_request',
        `--dataset-kind ${kind} was given but ${root} holds a ${manifest.kind} dataset; drop the flag or point --gt at the right folder.`,
        { file: root },
      );
    }
    const cases: GroundTruthCase[] = [];
    const outside: EvaluationProblem[] = [];
    for (const entry of manifest.cases) {
      if (entry.label === undefined) continue;
      // A dataset may name only files inside its folder (dataset.json can list any path).
      const problem = await outsideProblem({ ...scope, root: manifest.root }, entry.label);
      if (problem) {
        outside.push({ id: entry.id, file: entry.label, message: problem.message });
        continue;
      }
      const imageStem = stripVolumeExtension(basename(entry.image));
      const labelStem = stripVolumeExtension(basename(entry.label));
      const keys = [entry.id, imageStem, labelStem === null ? null : caseKey(labelStem)];
      const c: GroundTruthCase = {
        id: entry.id,
        label: entry.label,
        patient: entry.patient,
        keys: [...new Set(keys.filter((k): k is string => k !== null))],
      };
      if (entry.phase) c.phase = entry.phase;
      cases.push(c);
    }
    return { kind: manifest.kind, labels: foregroundLabels(manifest.labels), cases, problems: outside };
  }
  const { files, problems } = await volumeFiles(root);
  for (const [id, label] of files) {
    const problem = await outsideProblem(scope, label);
    if (!problem) continue;
    problems.push({ id, file: label, message: problem.message });
    files.delete(id);
  }
  const cases = [...files].map(([id, label]): GroundTruthCase => {
    const c: GroundTruthCase = { id, label, keys: [id] };
    const phase = /^(.*)_(ED|ES)$/i.exec(id);
    if (kind === 'acdc' && phase) {
      c.patient = phase[1]!;
      c.phase = phase[2]!.toUpperCase() as 'ED' | 'ES';
    } else if (kind === 'acdc') {
      c.patient = /^(patient\d+)/i.exec(id)?.[1] ?? id;
    }
    return c;
  });
  let labels: Record<number, string> | undefined;
  if (kind === 'acdc') labels = foregroundLabels(ACDC_LABELS);
  else if (kind === 'promise12') labels = foregroundLabels(PROMISE12_LABELS);
  else if (kind === 'msd') labels = await msdLabelsNear(root);
  return { kind: kind ?? 'plain', labels, cases, problems };
}
