// Runs in: the engine. Reads PROMISE12 into the case table: TrainingData_Part1..3 merged (or any folder of
// CaseNN.mhd with CaseNN_segmentation.mhd), and TestData kept apart as `test/CaseNN`, because its ids collide
// with the training ids while being other patients.
import { basename, join } from 'node:path';
import type { CaseEntry, CaseProblem, DatasetManifest } from './case-table.ts';
import { flagDuplicateIds } from './duplicates.ts';
import { displayPath, listFolder, unlistableReason } from './files.ts';
import { PROMISE12_LABELS } from './labels.ts';

interface CaseFolder {
  path: string;
  subset: 'train' | 'test';
}

const CASE_FILE = /^(Case\d+)(_segmentation)?\.(mhd|mha)$/i;
const TRAINING = /^TrainingData/i;
const TEST = /^TestData/i;

/** The folders holding PROMISE12 cases under `root`, or null when the folder does not look like PROMISE12. */
export async function findPromise12Folders(root: string): Promise<CaseFolder[] | null> {
  const entries = await listFolder(root);
  const folders: CaseFolder[] = [];
  for (const e of entries) {
    if (e.kind !== 'folder') continue;
    if (TRAINING.test(e.name)) folders.push({ path: e.path, subset: 'train' });
    else if (TEST.test(e.name)) folders.push({ path: e.path, subset: 'test' });
  }
  if (entries.some((e) => CASE_FILE.test(e.name))) {
    folders.unshift({ path: root, subset: TEST.test(basename(root)) ? 'test' : 'train' });
  }
  // Training cases first, whatever the folder names sort as.
  folders.sort((a, b) => (a.subset === b.subset ? 0 : a.subset === 'train' ? -1 : 1));
  return folders.length > 0 ? folders : null;
}

export async function readPromise12Dataset(root: string, folders: CaseFolder[]): Promise<DatasetManifest> {
  const cases: CaseEntry[] = [];
  const problems: CaseProblem[] = [];
  for (const folder of folders) {
    const found = new Map<string, { image?: string; label?: string; ext: string }>();
    for (const e of await listFolder(folder.path)) {
      const m = CASE_FILE.exec(e.name);
      if (!m) continue;
      const name = m[1] as string;
      const slot = found.get(name) ?? { ext: `.${m[3]}` };
      if (m[2]) slot.label = e.path;
      else slot.image = e.path;
      found.set(name, slot);
    }
    if (found.size === 0) {
      const reason = await unlistableReason(root, folder.path);
      problems.push({
        message:
          reason ??
          `${displayPath(root, folder.path)} holds no CaseNN.mhd files; check that its archive was unpacked completely.`,
        file: folder.path,
      });
    }
    for (const [name, slot] of found) {
      const test = folder.subset === 'test';
      const id = test ? `test/${name}` : name;
      const image = slot.image ?? join(folder.path, `${name}${slot.ext}`);
      const entry: CaseEntry = { id, patient: id, subset: folder.subset, image, ok: true, problems: [] };
      if (slot.image === undefined) {
        entry.problems.push({
          message: `${displayPath(root, slot.label ?? image)} has no image: ${displayPath(root, image)} is missing.`,
          file: image,
        });
      }
      if (slot.label !== undefined) entry.label = slot.label;
      else if (!test) {
        entry.label = join(folder.path, `${name}_segmentation${slot.ext}`);
        entry.problems.push({
          message: `${displayPath(root, image)} has no label map: ${displayPath(root, entry.label)} is missing.`,
          file: entry.label,
        });
      }
      cases.push(entry);
    }
  }
  flagDuplicateIds(cases, root);
  return { kind: 'promise12', root, name: 'PROMISE12', labels: { ...PROMISE12_LABELS }, cases, problems };
}
