// Runs in: the engine. Reads a Medical Segmentation Decathlon task folder into the case table: dataset.json
// as the Decathlon writes it (labels as value -> name, `training` pairs with "./" paths, `test` list), cross-
// checked against imagesTr / labelsTr / imagesTs. Voxels are not read here (see validate.ts).
import { readFile, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { EmonasError } from '../base/errors.ts';
import { isInside, type FileScope } from '../io/file-scope.ts';
import type { CaseEntry, CaseProblem, DatasetManifest } from './case-table.ts';
import { describeFsError, displayPath, listFolder, outsideProblem, type FolderEntry } from './files.ts';
import { flagDuplicateIds } from './duplicates.ts';
import { stripVolumeExtension } from './volume-names.ts';

export interface MsdDescription {
  name: string;
  labels: Record<number, string>;
  /** Relative paths as written in dataset.json; absent when the file has no `training` list. */
  training?: { image: string; label: string }[];
  test?: string[];
  numTraining?: number;
  numTest?: number;
  /** Entries of the lists that could not be used, as sentences. */
  problems: string[];
}

/**
 * Parses the content of dataset.json. Labels are accepted as the Decathlon writes them ("1": "Anterior")
 * and also reversed, as nnU-Net v2 writes them ("Anterior": 1); background 0 is added when not declared.
 */
export function parseMsdDescription(json: unknown, file: string): MsdDescription {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new EmonasError(
      'invalid_dataset',
      `${file} does not hold a JSON object as a Decathlon dataset.json does.`,
      {
        file,
      },
    );
  }
  const o = json as Record<string, unknown>;
  const problems: string[] = [];
  const labels = parseLabels(o['labels'], file);
  const description: MsdDescription = {
    name: typeof o['name'] === 'string' && o['name'] !== '' ? o['name'] : basename(dirname(file)),
    labels,
    problems,
  };
  if (typeof o['numTraining'] === 'number') description.numTraining = o['numTraining'];
  if (typeof o['numTest'] === 'number') description.numTest = o['numTest'];
  if (Array.isArray(o['training'])) {
    description.training = [];
    o['training'].forEach((item: unknown, i) => {
      const pair = item as { image?: unknown; label?: unknown } | null;
      if (typeof pair?.image === 'string' && typeof pair.label === 'string') {
        description.training?.push({ image: pair.image, label: pair.label });
      } else {
        problems.push(
          `Entry ${i + 1} of "training" in dataset.json is not an {"image", "label"} pair of paths; it is skipped.`,
        );
      }
    });
  } else if (o['training'] !== undefined) {
    problems.push('"training" in dataset.json is not a list; the cases are paired by file name instead.');
  }
  if (Array.isArray(o['test'])) {
    description.test = [];
    o['test'].forEach((item: unknown, i) => {
      // The Decathlon lists test images as plain paths; some converters write {"image": path}.
      const path = typeof item === 'string' ? item : (item as { image?: unknown } | null)?.image;
      if (typeof path === 'string') description.test?.push(path);
      else problems.push(`Entry ${i + 1} of "test" in dataset.json is not a path; it is skipped.`);
    });
  }
  return description;
}

function parseLabels(value: unknown, file: string): Record<number, string> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new EmonasError(
      'invalid_dataset',
      `${file} has no "labels" table; a Decathlon dataset.json names its labels like {"0": "background", "1": "Anterior"}.`,
      { file },
    );
  }
  const labels: Record<number, string> = {};
  for (const [key, name] of Object.entries(value)) {
    const forward = /^\d+$/.test(key) && typeof name === 'string';
    const reversed = typeof name === 'number' && Number.isInteger(name) && name >= 0;
    if (forward) labels[Number(key)] = name;
    else if (reversed) labels[name] = key;
    else {
      throw new EmonasError(
        'invalid_dataset',
        `${file} has a label entry "${key}": ${JSON.stringify(name)} that is not a class number with a name; write labels like {"0": "background", "1": "Anterior"}.`,
        { file },
      );
    }
  }
  if (labels[0] === undefined) labels[0] = 'background';
  return labels;
}

export async function readMsdDataset(scope: FileScope): Promise<DatasetManifest> {
  const { root } = scope;
  const jsonFile = join(root, 'dataset.json');
  const outside = await outsideProblem(scope, jsonFile);
  if (outside) throw new EmonasError('invalid_dataset', outside.message, { file: jsonFile });
  let text: string;
  try {
    text = await readFile(jsonFile, 'utf8');
  } catch (err) {
    throw new EmonasError('unreadable_file', describeFsError(err, root, jsonFile), { file: jsonFile });
  }
  let json: unknown;
  try {
    json = JSON.parse(text.replace(/^\uFEFF/, ''));
  } catch (err) {
    throw new EmonasError(
      'invalid_dataset',
      `${jsonFile} is not valid JSON (${(err as Error).message}); fix it or copy it again from the Decathlon archive.`,
      { file: jsonFile },
    );
  }
  const description = parseMsdDescription(json, jsonFile);
  const problems: CaseProblem[] = description.problems.map((message) => ({ message, file: jsonFile }));
  const [imagesTr, labelsTr, imagesTs] = await Promise.all(
    ['imagesTr', 'labelsTr', 'imagesTs'].map((folder) => listFolder(join(root, folder))),
  );
  const files = new Files(root, [...(imagesTr ?? []), ...(labelsTr ?? []), ...(imagesTs ?? [])]);
  const cases: CaseEntry[] = [];

  if (description.training) {
    for (const pair of description.training) {
      const image = resolveListed(root, pair.image);
      const label = resolveListed(root, pair.label);
      const entry = newCase(stripVolumeExtension(basename(image)) ?? basename(image), 'train', image, label);
      for (const [file, listed] of [
        [image, pair.image],
        [label, pair.label],
      ] as const) {
        const problem = await listedProblem(root, file, listed, files);
        if (problem) entry.problems.push(problem);
      }
      cases.push(entry);
    }
    if (description.numTraining !== undefined && description.numTraining !== description.training.length) {
      problems.push({
        message: `dataset.json says numTraining is ${description.numTraining} but lists ${description.training.length} training cases; the list is used.`,
        file: jsonFile,
      });
    }
  } else {
    cases.push(...pairByName(root, imagesTr ?? [], labelsTr ?? [], files));
  }

  for (const path of description.test ?? []) {
    const image = resolveListed(root, path);
    const entry = newCase(`test/${stripVolumeExtension(basename(image)) ?? basename(image)}`, 'test', image);
    const problem = await listedProblem(root, image, path, files);
    if (problem) entry.problems.push(problem);
    cases.push(entry);
  }
  if (
    description.numTest !== undefined &&
    description.test &&
    description.numTest !== description.test.length
  ) {
    problems.push({
      message: `dataset.json says numTest is ${description.numTest} but lists ${description.test.length} test images; the list is used.`,
      file: jsonFile,
    });
  }

  for (const entry of files.unclaimed()) {
    problems.push({
      message: `${displayPath(root, entry.path)} is present but not listed in dataset.json, so it is not imported; add it to the list if it belongs to the dataset.`,
      file: entry.path,
    });
  }
  flagDuplicateIds(cases, root);
  return { kind: 'msd', root, name: description.name, labels: description.labels, cases, problems };
}

function newCase(id: string, subset: 'train' | 'test', image: string, label?: string): CaseEntry {
  const entry: CaseEntry = { id, patient: id, subset, image, ok: true, problems: [] };
  if (label !== undefined) entry.label = label;
  return entry;
}

/**
 * What is wrong with a file dataset.json lists: outside the task folder as written (never looked at, not
 * even for its existence), or absent.
 */
async function listedProblem(
  root: string,
  file: string,
  listed: string,
  files: Files,
): Promise<CaseProblem | null> {
  if (!isInside(root, file)) {
    const shown = JSON.stringify(listed.length > 200 ? `${listed.slice(0, 200)}...` : listed);
    return {
      message: `dataset.json lists ${shown}, which lies outside the dataset folder ${root}, so it is not read (only files inside the folder are).`,
      file,
    };
  }
  return (await files.claim(file)) ? null : { message: files.absentMessage(file), file };
}

/** "./imagesTr/x.nii.gz" -> absolute path under the task folder (Windows separators accepted). */
function resolveListed(root: string, listed: string): string {
  return resolve(root, listed.replace(/\\/g, '/'));
}

/** The volume-like files found in the task's folders, each to be claimed by one listed case. */
class Files {
  private readonly byPath = new Map<string, FolderEntry>();
  private readonly claimed = new Set<string>();

  constructor(
    private readonly root: string,
    entries: FolderEntry[],
  ) {
    for (const e of entries) {
      if (stripVolumeExtension(e.name) !== null) this.byPath.set(e.path, e);
    }
  }

  /**
   * False when the file is certainly absent. A folder or broken link named like it counts as there, and so
   * does a file in a folder that could not be listed (permission denied): the validator then says what is
   * wrong with it.
   */
  async claim(path: string): Promise<boolean> {
    if (this.byPath.has(path)) {
      this.claimed.add(path);
      return true;
    }
    try {
      await stat(path);
      return true;
    } catch (err) {
      const code = (err as { code?: unknown }).code;
      return code !== 'ENOENT' && code !== 'ENOTDIR';
    }
  }

  markClaimed(path: string): void {
    this.claimed.add(path);
  }

  absentMessage(path: string): string {
    return `${displayPath(this.root, path)} is listed in dataset.json but is not in the folder; copy it again from the original archive or remove it from the list.`;
  }

  unclaimed(): FolderEntry[] {
    return [...this.byPath.values()].filter((e) => !this.claimed.has(e.path));
  }
}

/** Without a `training` list, an image and a label map pair up when they have the same file name. */
function pairByName(root: string, images: FolderEntry[], labels: FolderEntry[], files: Files): CaseEntry[] {
  const cases: CaseEntry[] = [];
  const labelByName = new Map(
    labels.filter((l) => stripVolumeExtension(l.name) !== null).map((l) => [l.name, l]),
  );
  for (const image of images) {
    const id = stripVolumeExtension(image.name);
    if (id === null) continue;
    files.markClaimed(image.path);
    const label = labelByName.get(image.name);
    const entry = newCase(id, 'train', image.path, label?.path);
    if (label) {
      files.markClaimed(label.path);
      labelByName.delete(image.name);
    } else {
      const expected = join(root, 'labelsTr', image.name);
      entry.problems.push({
        message: `${displayPath(root, image.path)} has no label map: ${displayPath(root, expected)} is missing.`,
        file: expected,
      });
    }
    cases.push(entry);
  }
  for (const label of labelByName.values()) {
    files.markClaimed(label.path);
    const image = join(root, 'imagesTr', label.name);
    const entry = newCase(stripVolumeExtension(label.name) ?? label.name, 'train', image, label.path);
    entry.problems.push({
      message: `${displayPath(root, label.path)} has no image: ${displayPath(root, image)} is missing.`,
      file: image,
    });
    cases.push(entry);
  }
  return cases;
}
