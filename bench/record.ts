// Runs in: the benchmark processes. A record folder: the small result of each measured item (a training's
// measurement, a run's scored row) kept in a folder that is committed, so a benchmark that needs more hours
// of the machine than one sitting gets them over several, on machines that do not keep their disks: an
// item found in the record is not measured again. The settings every item shares are written beside them
// and checked, so a record never mixes measurements of two configurations; a dataset is recorded by its
// path relative to the record, the same in every checkout laid out as this one (the project beside
// ../shared), so another layout needs its own record. Each item says which code and which machine made it
// (provenance()), since the budgets these benchmarks measure under are wall-clock time.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { cpus } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeFileAtomic } from '../core/io/files.ts';

export const RECORD_SETTINGS_FILE = 'settings.json';
const SETTINGS_NAME = RECORD_SETTINGS_FILE.replace(/\.json$/, '');

export interface RecordSettings {
  /** The data measured, as a path (recorded relative to the record). */
  dataset: string;
  [key: string]: unknown;
}

export class RecordFolder {
  private constructor(readonly dir: string) {}

  /**
   * Opens (creating) the record at dir for measurements made with these settings; throws, naming both, when
   * it holds measurements made with others, or items without the settings they were made with.
   */
  static async open(dir: string, settings: RecordSettings): Promise<RecordFolder> {
    const root = resolve(dir);
    const dataset = relative(root, resolve(settings.dataset));
    const text = JSON.stringify({ ...settings, dataset }, null, 2) + '\n';
    const file = join(root, RECORD_SETTINGS_FILE);
    await mkdir(root, { recursive: true });
    if (existsSync(file)) {
      const before = await readFile(file, 'utf8');
      if (before !== text) {
        throw new Error(
          `the record ${root} holds measurements made with other settings (${file}: ${before.trim()}; now: ` +
            `${text.trim()}); record into another folder.`,
        );
      }
    } else if (readdirSync(root).length > 0) {
      throw new Error(
        `${root} holds files but no ${RECORD_SETTINGS_FILE}, so what they measured is not known; record into an empty folder.`,
      );
    } else {
      await writeFileAtomic(file, text);
    }
    return new RecordFolder(root);
  }

  private file(name: string): string {
    const valid = /^[A-Za-z0-9][A-Za-z0-9._-]*(\/[A-Za-z0-9][A-Za-z0-9._-]*)*$/.test(name);
    if (!valid || name.includes('..') || name === SETTINGS_NAME) {
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
    await mkdir(dirname(file), { recursive: true });
    await writeFileAtomic(file, JSON.stringify(value, null, 2) + '\n');
  }
}

/** Which code and which machine made a measurement. */
export interface Provenance {
  /** The project's commit, with "+changes" when its code differed from it; null outside a git checkout. */
  commit: string | null;
  machine: { cpu: string; cores: number };
}

/**
 * Read once, when the benchmark starts: the code it runs is the code loaded then, whatever the checkout
 * becomes during hours of measuring. Changes to documentation and to the records themselves do not count.
 */
const PROVENANCE: Provenance = {
  commit: sourceCommit(),
  machine: { cpu: cpus()[0]?.model.trim() ?? 'unknown', cores: cpus().length },
};

export function provenance(): Provenance {
  return PROVENANCE;
}

function sourceCommit(): string | null {
  const cwd = dirname(fileURLToPath(import.meta.url));
  try {
    const git = (...args: string[]): string => execFileSync('git', args, { cwd, encoding: 'utf8' }).trim();
    const head = git('rev-parse', '--short=12', 'HEAD');
    const changed = git(
      'status',
      '--porcelain',
      '--untracked-files=no',
      '--',
      ':/',
      ':(exclude,top)docs',
      ':(exclude,top)bench/measured',
      ':(exclude,glob,top)**/*.md',
    );
    return changed === '' ? head : `${head}+changes`;
  } catch {
    return null;
  }
}
