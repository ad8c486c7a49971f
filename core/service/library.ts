// Runs in: the engine. The dataset library: names for dataset folders a user inspected and accepted,
// recorded in the engine's data folder. Patient data stays where the user keeps it unless a copy is asked
// for. On disk:
//   <dataDir>/datasets.json              { version: 1, datasets: DatasetRecord[] }
//   <dataDir>/datasets/<name>/report.json   the inspection report as it was at import
//   <dataDir>/datasets/<name>/files/        the library's own copy, only when asked for
import { cp, mkdir, readFile, rm } from 'node:fs/promises';
import { join, relative, isAbsolute } from 'node:path';
import { readJson, writeJsonAtomic } from '../io/files.ts';
import { EmonasError } from '../base/errors.ts';
import type { DatasetRecord, DatasetReport } from '../api/datasets.ts';

interface LibraryFile {
  version: 1;
  datasets: DatasetRecord[];
}

/** R: the report type the engine's inspection returns; stored whole, so a case can be loaded from it. */
export class DatasetLibrary<R extends DatasetReport> {
  /** Mutations run one after another, so two quick imports cannot lose each other's record. */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(readonly dataDir: string) {}

  private get indexFile(): string {
    return join(this.dataDir, 'datasets.json');
  }

  private folderOf(name: string): string {
    return join(this.dataDir, 'datasets', name);
  }

  async list(): Promise<DatasetRecord[]> {
    return (await this.read()).datasets;
  }

  async get(name: string): Promise<{ record: DatasetRecord; report: R }> {
    const record = (await this.read()).datasets.find((d) => d.name === name);
    if (!record) throw notInLibrary(name);
    const file = join(this.folderOf(name), 'report.json');
    const report = await readRecord<R>(
      file,
      `The record of dataset '${name}' is missing or damaged; remove it from the library and import it again.`,
    );
    return { record, report };
  }

  /** Records an inspected dataset; with `copy`, first copies its folder into the library. */
  add(name: string, report: R, options: { copy?: boolean } = {}): Promise<DatasetRecord> {
    return this.serialise(async () => {
      const index = await this.read();
      if (index.datasets.some((d) => d.name === name)) {
        throw new EmonasError(
          'conflict',
          `A dataset named '${name}' is already in the library; choose another name or remove that one first.`,
        );
      }
      if (report.summary.usable === 0) {
        throw new EmonasError(
          'invalid_dataset',
          `The folder ${report.root} has no usable case, so there is nothing to import; fix the problems the inspection lists and try again.`,
          { file: report.root },
        );
      }
      const folder = this.folderOf(name);
      await rm(folder, { recursive: true, force: true });
      await mkdir(folder, { recursive: true });
      let stored = report;
      try {
        if (options.copy === true) {
          const target = join(folder, 'files');
          await cp(report.root, target, { recursive: true, errorOnExist: true });
          stored = reroot(report, target);
        }
        await writeJsonAtomic(join(folder, 'report.json'), stored);
      } catch (err) {
        // A half-made copy (a full disk, an unreadable file) must not stay behind unrecorded.
        await rm(folder, { recursive: true, force: true });
        throw err;
      }
      const record: DatasetRecord = {
        name,
        kind: report.kind,
        root: stored.root,
        copied: options.copy === true,
        ...(report.allowLinks === true && { allowLinks: true }),
        labels: report.labels,
        usable: report.summary.usable,
        broken: report.summary.broken,
        importedAt: new Date().toISOString(),
      };
      await this.write({ version: 1, datasets: [...index.datasets, record] });
      return record;
    });
  }

  /** Forgets a dataset and deletes what the library holds for it; the user's own folder is never touched. */
  remove(name: string): Promise<void> {
    return this.serialise(async () => {
      const index = await this.read();
      if (!index.datasets.some((d) => d.name === name)) throw notInLibrary(name);
      await this.write({ version: 1, datasets: index.datasets.filter((d) => d.name !== name) });
      await rm(this.folderOf(name), { recursive: true, force: true });
    });
  }

  private serialise<T>(run: () => Promise<T>): Promise<T> {
    const next = this.queue.then(run, run);
    this.queue = next.catch(() => undefined);
    return next;
  }

  private async read(): Promise<LibraryFile> {
    let text: string;
    try {
      text = await readFile(this.indexFile, 'utf8');
    } catch (err) {
      if ((err as { code?: unknown }).code === 'ENOENT') return { version: 1, datasets: [] };
      throw new EmonasError(
        'unreadable_file',
        `The dataset library ${this.indexFile} cannot be read: ${(err as Error).message}.`,
        {
          file: this.indexFile,
        },
      );
    }
    const parsed = parseJson(text);
    const datasets = (parsed as Partial<LibraryFile> | undefined)?.datasets;
    if (!Array.isArray(datasets)) {
      throw new EmonasError(
        'unreadable_file',
        `The dataset library ${this.indexFile} is damaged; move it aside and import the datasets again.`,
        { file: this.indexFile },
      );
    }
    return { version: 1, datasets: datasets as DatasetRecord[] };
  }

  private async write(index: LibraryFile): Promise<void> {
    await mkdir(this.dataDir, { recursive: true });
    await writeJsonAtomic(this.indexFile, index);
  }
}

function notInLibrary(name: string): EmonasError {
  return new EmonasError('not_found', `There is no dataset named '${name}' in the library; import it first.`);
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/** A JSON object the library wrote; a missing or damaged one is the `damaged` error. */
async function readRecord<T>(file: string, damaged: string): Promise<T> {
  const value = await readJson(file);
  if (typeof value !== 'object' || value === null)
    throw new EmonasError('unreadable_file', damaged, { file });
  return value as T;
}

/** The same report with every path under the old root moved under the new one. */
function reroot<R extends DatasetReport>(report: R, root: string): R {
  const move = (path: string): string => {
    const rel = relative(report.root, path);
    return rel.startsWith('..') || isAbsolute(rel) ? path : join(root, rel);
  };
  const json = JSON.stringify(report, (key, value: unknown) =>
    typeof value === 'string' && ['root', 'image', 'label', 'cine', 'file'].includes(key)
      ? move(value)
      : value,
  );
  return JSON.parse(json) as R;
}
