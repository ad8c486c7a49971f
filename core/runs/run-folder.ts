// Runs in: the engine. A run on disk (architecture.md "A run on disk"): the folder layout, run.json (the
// full configuration, what was searched on, software versions), candidate folders, whether the user
// cancelled the run, and the list of runs under a folder.
import { createRequire } from 'node:module';
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { EmonasError } from '../base/errors.ts';
import type { ExecutorCapabilities } from '../executors/executor.ts';
import { writeFileAtomicSync } from '../io/files.ts';
import type { SearchConfig } from '../search/config.ts';
import type { Normalisation } from '../search/normalisation.ts';
import type { EvaluationPlan } from '../search/plan.ts';
import type { SizeBound } from '../search/protocol.ts';

export const RUN_FILES = {
  manifest: 'run.json',
  journal: 'journal.jsonl',
  /** The front with the reference implementation's columns. */
  pareto: 'pareto.csv',
  /** The front with all of our columns. */
  front: 'front.csv',
  /** Every evaluated candidate, failures included. */
  candidates: 'candidates.csv',
  candidatesDir: 'candidates',
  /** The pid of the process that has the run open (run-lock.ts). */
  lock: 'run.lock',
  /** Why the run's last drive ended in an error (run-failure.ts); absent otherwise. */
  failed: 'failed.json',
  /** That the run's last drive was stopped by its wall-clock budget (budget-stop.ts); absent otherwise. */
  budgetStop: 'stopped-at-budget.json',
  /** That the user cancelled the run (the engine's search.cancel): it is kept, but never resumed. */
  cancelled: 'cancelled.json',
} as const;

export interface RunManifest {
  format: 'emonas-run';
  formatVersion: 1;
  id: string;
  createdAt: string;
  search: SearchConfig;
  /** What is optimised: e.g. {kind: 'formula', ...} or a segmentation task with its training settings. */
  problem: Record<string, unknown>;
  /** Summary of the dataset manifest (files and hashes, split), null for problems without data. */
  dataset: Record<string, unknown> | null;
  /** Input channels and output classes the parameter counts were made for. */
  task: { inChannels: number; classes: number };
  normalisation: Normalisation;
  software: Record<string, string>;
  executor: ExecutorCapabilities | null;
  /**
   * The evaluation order and surrogate refit the run started with, in words too; absent in runs made before
   * run.json stated it (core/search/plan.ts `searchAsRan` reads those).
   */
  evaluation?: EvaluationPlan;
  /** The size bound every candidate is kept within; absent in runs made before the search kept one. */
  sizeBound?: SizeBound;
  /**
   * The training backends (core/train/backend.ts's names) the run's local training workers selected, in the
   * order first seen; absent until one has reported, and for problems without training.
   */
  backends?: string[];
}

/** Creates the folder and writes run.json; refuses to overwrite an existing run. */
export function createRunFolder(dir: string, manifest: RunManifest): void {
  const path = join(dir, RUN_FILES.manifest);
  if (existsSync(path)) {
    throw new EmonasError(
      'conflict',
      `A run already exists in ${dir}; resume it, or choose an empty folder for a new run.`,
      {
        file: path,
      },
    );
  }
  mkdirSync(join(dir, RUN_FILES.candidatesDir), { recursive: true });
  writeFileAtomicSync(path, JSON.stringify(manifest, null, 2) + '\n');
}

export function readRunManifest(dir: string): RunManifest {
  const path = join(dir, RUN_FILES.manifest);
  if (!existsSync(path)) {
    throw new EmonasError(
      'not_found',
      `There is no run in ${dir} (no ${RUN_FILES.manifest}); check the folder.`,
      { file: path },
    );
  }
  let manifest: unknown;
  try {
    manifest = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new EmonasError(
      'unreadable_file',
      `${RUN_FILES.manifest} is not valid JSON: ${(err as Error).message}`,
      { file: path },
    );
  }
  const m = manifest as Partial<RunManifest> | null;
  if (m?.format !== 'emonas-run' || m.formatVersion !== 1 || typeof m.search !== 'object') {
    throw new EmonasError(
      'unsupported_format',
      `${RUN_FILES.manifest} is not a run of this version of Emonas Studio (format emonas-run, version 1).`,
      { file: path },
    );
  }
  return m as RunManifest;
}

/** The user cancelled the run, so nothing may resume it (`emonas resume` and the app alike). */
export function isCancelled(dir: string): boolean {
  return existsSync(join(dir, RUN_FILES.cancelled));
}

/** Adds a training backend a worker of the run selected to run.json's `backends`, once per name. */
export function recordBackend(dir: string, backend: string): void {
  const manifest = readRunManifest(dir);
  const known = manifest.backends ?? [];
  if (known.includes(backend)) return;
  const updated: RunManifest = { ...manifest, backends: [...known, backend] };
  writeFileAtomicSync(join(dir, RUN_FILES.manifest), JSON.stringify(updated, null, 2) + '\n');
}

/** The candidate's folder, created on first use. */
export function candidateDir(dir: string, id: string): string {
  const path = join(dir, RUN_FILES.candidatesDir, id);
  mkdirSync(path, { recursive: true });
  return path;
}

/** Subfolders of root that hold a run.json, by name. */
export function listRunFolders(root: string): string[] {
  if (!existsSync(root)) {
    throw new EmonasError('not_found', `The folder ${root} does not exist.`, { file: root });
  }
  return readdirSync(root, { withFileTypes: true })
    .filter((e) => e.isDirectory() && existsSync(join(root, e.name, RUN_FILES.manifest)))
    .map((e) => join(root, e.name))
    .sort();
}

/** Versions that can change a run's results: this app, Node, and the numeric libraries. */
export function softwareVersions(): Record<string, string> {
  const require = createRequire(import.meta.url);
  const version = (name: string): string => {
    try {
      return (require(`${name}/package.json`) as { version: string }).version;
    } catch {
      return 'not installed';
    }
  };
  const app = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  return {
    'emonas-studio': app.version,
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
    'ml-random-forest': version('ml-random-forest'),
    '@tensorflow/tfjs-core': version('@tensorflow/tfjs-core'),
  };
}
