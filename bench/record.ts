// Runs in: the benchmark processes. A record folder: the small result of each measured item (a training's
// measurement, a run's scored row) kept in a folder that is committed, so a benchmark that needs more hours
// of the machine than one sitting gets them over several, on machines that do not keep their disks: an
// item found in the record is not measured again. The settings every item shares are written beside them
// and checked, so a record never mixes measurements of two configurations; a dataset is recorded by its
// path relative to the record, which stays the same in every checkout of the project.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeFileAtomic } from '../core/io/files.ts';

export const RECORD_SETTINGS_FILE = 'settings.json';

export interface RecordSettings {
  /** The data measured, as a path (made relative to the record). */
  dataset: string;
  [key: string]: unknown;
}

export class RecordFolder {
  private constructor(readonly dir: string) {}

  /**
   * Opens (creating) the record at dir for measurements made with these settings; throws, naming both, when
   * it holds measurements made with others.
   */
  static async open(dir: string, settings: RecordSettings): Promise<RecordFolder> {
    const root = resolve(dir);
    const dataset = isAbsolute(settings.dataset) ? relative(root, settings.dataset) : settings.dataset;
    const text = JSON.stringify({ ...settings, dataset }, null, 2) + '\n';
    const file = join(root, RECORD_SETTINGS_FILE);
    await mkdir(root, { recursive: true });
    if (!existsSync(file)) {
      await writeFileAtomic(file, text);
    } else {
      const before = await readFile(file, 'utf8');
      if (before !== text) {
        throw new Error(
          `the record ${root} holds measurements made with other settings (${file}: ${before.trim()}; now: ` +
            `${text.trim()}); record into another folder.`,
        );
      }
    }
    return new RecordFolder(root);
  }

  private file(name: string): string {
    if (!/^[A-Za-z0-9][A-Za-z0-9._-]*(\/[A-Za-z0-9][A-Za-z0-9._-]*)*$/.test(name) || name.includes('..')) {
      throw new Error(`"${name}" is not a record item's name.`);
    }
    return join(this.dir, `${name}.json`);
  }

  has(name: string): boolean {
    return existsSync(this.file(name));
  }

  /** The recorded item, or null when it was never recorded. */
  async read<T>(name: string): Promise<T | null> {
    const file = this.file(name);
    if (!existsSync(file)) return null;
    try {
      return JSON.parse(await readFile(file, 'utf8')) as T;
    } catch (err) {
      throw new Error(`the record item ${file} cannot be read: ${(err as Error).message}`);
    }
  }

  async write(name: string, value: unknown): Promise<void> {
    const file = this.file(name);
    await mkdir(join(file, '..'), { recursive: true });
    await writeFileAtomic(file, JSON.stringify(value, null, 2) + '\n');
  }
}

/**
 * The project's commit this process runs (with "+changes" when its files differ from it), so a recorded
 * measurement says which code made it; null outside a git checkout.
 */
export function sourceCommit(): string | null {
  const cwd = dirname(fileURLToPath(import.meta.url));
  try {
    const head = execFileSync('git', ['rev-parse', '--short=12', 'HEAD'], { cwd, encoding: 'utf8' }).trim();
    const changed = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], {
      cwd,
      encoding: 'utf8',
    }).trim();
    return changed === '' ? head : `${head}+changes`;
  } catch {
    return null;
  }
}
