// Runs in: the engine. Reads one case's files and records everything wrong with them: unreadable or
// truncated files, a label map off its image's grid, label values that are not declared or not whole numbers,
// and label maps with no foreground. A case with any problem is not ok and stays out of training.
import { basename } from 'node:path';
import { EmonasError } from '../base/errors.ts';
import type { FileScope, ReadOptions } from '../io/file-scope.ts';
import type { Volume } from '../io/volume.ts';
import type { CaseEntry, CaseProblem } from './case-table.ts';
import { checkFile, describeFsError, displayPath, outsideProblem } from './files.ts';
import { gridDifferences, type Grid } from './grid.ts';
import { formatValues, scanLabelValues } from './labels.ts';

/** Both are given the dataset's scope, which every file they open (a MetaImage's data file too) must lie in. */
export interface VolumeReaders {
  /**
   * Geometry and frame count; must refuse a file that is truncated, damaged or longer than declared. (The
   * engine reads and decompresses the whole file without keeping it: a gzip trailer alone does not prove a
   * file whole.)
   */
  header(path: string, options: ReadOptions): Promise<Grid & { frames: number }>;
  /** A whole 3D volume. */
  volume(path: string, options: ReadOptions): Promise<Volume>;
}

/**
 * Fills in the case's geometry, adds what is wrong with its files to its problems, and sets `ok`. The image's
 * voxels are not decoded (only its header and its integrity are checked); the label map is read whole, since
 * its values must be checked.
 */
export async function validateCase(
  entry: CaseEntry,
  labels: Record<number, string>,
  scope: FileScope,
  read: VolumeReaders,
): Promise<void> {
  const { root } = scope;
  // A file the layout already reported (absent, outside the folder, listed twice, ...) is not read again.
  const reported = new Set(entry.problems.map((p) => p.file));
  const image = reported.has(entry.image) ? null : await readChecked(entry, scope, entry.image, read.header);
  if (image && image.frames > 1) {
    entry.problems.push({
      message: `${displayPath(root, entry.image)} is a 4D series of ${image.frames} frames or channels; only single 3D images can be trained on.`,
      file: entry.image,
    });
  }
  if (image) {
    entry.shape = [...image.shape];
    entry.spacing = [...image.spacing];
    entry.origin = [...image.origin];
    entry.direction = [...image.direction];
  }
  const labelFile = entry.label;
  if (labelFile !== undefined && !reported.has(labelFile)) {
    const label = await readChecked(entry, scope, labelFile, read.volume);
    if (label) {
      entry.problems.push(...labelValueProblems(label, labels, root, labelFile));
      if (image) {
        const differences = gridDifferences(image, label);
        if (differences.length > 0) {
          entry.problems.push({
            message: `${displayPath(root, labelFile)} is not on the grid of its image ${displayPath(root, entry.image)}: ${differences.join('; ')}.`,
            file: labelFile,
          });
        }
      }
    }
  }
  entry.ok = entry.problems.length === 0;
}

async function readChecked<T>(
  entry: CaseEntry,
  scope: FileScope,
  file: string,
  read: (path: string, options: ReadOptions) => Promise<T>,
): Promise<T | null> {
  const problem = (await outsideProblem(scope, file)) ?? (await checkFile(scope.root, file));
  if (problem) {
    entry.problems.push(problem);
    return null;
  }
  try {
    return await read(file, { scope });
  } catch (err) {
    entry.problems.push({ message: readFailure(err, scope.root, file), file });
    return null;
  }
}

/** The reader's own sentence when it has one, made to name the file when it does not already. */
export function readFailure(err: unknown, root: string, file: string): string {
  const fsCode = (err as { code?: unknown } | null)?.code;
  if (!(err instanceof EmonasError) && typeof fsCode === 'string' && /^E[A-Z]+$/.test(fsCode)) {
    return describeFsError(err, root, file);
  }
  const message = err instanceof Error ? err.message : String(err);
  if (message.includes(basename(file))) return message;
  return `${displayPath(root, file)} cannot be read: ${message}`;
}

export function labelValueProblems(
  label: Volume,
  labels: Record<number, string>,
  root: string,
  file: string,
): CaseProblem[] {
  const problems: CaseProblem[] = [];
  const name = displayPath(root, file);
  const scan = scanLabelValues(label.data);
  if (scan.nonIntegerCount > 0) {
    problems.push({
      message: `${name} holds ${scan.nonIntegerCount} voxels that are not whole numbers (e.g. ${formatValues(scan.nonIntegerExamples)}); a label map must hold class numbers only.`,
      file,
    });
  }
  const undeclared = scan.values.filter((v) => labels[v] === undefined);
  if (undeclared.length > 0) {
    const declared = Object.entries(labels)
      .map(([v, n]) => `${v} ${n}`)
      .join(', ');
    problems.push({
      message: `${name} holds label values ${listSome(undeclared)} that the label table does not declare (${declared}).`,
      file,
    });
  }
  if (scan.nonIntegerCount === 0 && scan.values.every((v) => v === 0)) {
    problems.push({ message: `${name} is empty: it holds no foreground voxel, only background.`, file });
  }
  return problems;
}

/** Up to ten values, then how many more: a swapped image and label map can hold thousands. */
function listSome(values: number[]): string {
  const shown = formatValues(values.slice(0, 10));
  return values.length > 10 ? `${shown} and ${values.length - 10} more` : shown;
}
