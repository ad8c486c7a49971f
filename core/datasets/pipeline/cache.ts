// Runs in: a training worker. The preprocessed cache: each case preprocessed once per plan and stored as
// raw float32 image + uint8 class map next to a small JSON record of the source files' size and time, so
// every later candidate of a search (and every later search) reads it back in milliseconds. Writes go to
// a temporary name and are renamed into place, so two workers filling the cache at once never see half
// a file.
import { createHash } from 'node:crypto';
import { mkdir, readFile, stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { writeFileAtomic } from '../../io/files.ts';
import { EmonasError } from '../../base/errors.ts';
import type { CaseEntry } from '../case-table.ts';
import { gridSize, type Shape3 } from './grid.ts';
import { planKey, type PreprocessingPlan } from './plan.ts';
import { prepareCase, type CanonicalInput } from './preprocess.ts';
import { indexForeground, type PreparedCase } from './prepared-case.ts';

/** Reads a case's image and label in the canonical orientation. */
export type CanonicalLoader = (entry: CaseEntry) => Promise<{ image: CanonicalInput; label: CanonicalInput }>;

interface SourceStamp {
  file: string;
  size: number;
  mtimeMs: number;
}

interface CacheRecord {
  id: string;
  sources: SourceStamp[];
  shape: Shape3;
}

/** EMONAS_CACHE_DIR, else $XDG_CACHE_HOME/emonas, else ~/.cache/emonas. */
export function defaultCacheRoot(): string {
  const explicit = process.env.EMONAS_CACHE_DIR;
  if (explicit) return explicit;
  const xdg = process.env.XDG_CACHE_HOME;
  return join(xdg && xdg !== '' ? xdg : join(homedir(), '.cache'), 'emonas');
}

/** One folder per dataset location and plan. */
export function cacheFolder(root: string, datasetRoot: string, plan: PreprocessingPlan): string {
  const where = createHash('sha256').update(datasetRoot).digest('hex').slice(0, 12);
  const name = plan.dataset.replace(/[^A-Za-z0-9._-]+/g, '_').slice(0, 40);
  return join(root, 'preprocessed', `${name}-${where}`, planKey(plan));
}

function caseFileName(id: string): string {
  return encodeURIComponent(id);
}

async function stamp(file: string): Promise<SourceStamp> {
  const s = await stat(file);
  return { file, size: s.size, mtimeMs: s.mtimeMs };
}

async function readCached(
  folder: string,
  entry: CaseEntry,
  sources: SourceStamp[],
  classes: number,
): Promise<PreparedCase | undefined> {
  let record: CacheRecord;
  let bytes: Buffer;
  try {
    record = JSON.parse(
      await readFile(join(folder, `${caseFileName(entry.id)}.json`), 'utf8'),
    ) as CacheRecord;
    if (JSON.stringify(record.sources) !== JSON.stringify(sources)) return undefined;
    bytes = await readFile(join(folder, `${caseFileName(entry.id)}.bin`));
  } catch {
    return undefined;
  }
  const n = gridSize(record.shape);
  if (bytes.length !== n * 5) return undefined;
  // Copies rather than views: the buffer may sit at an offset that is not a multiple of 4.
  const image = new Float32Array(n);
  new Uint8Array(image.buffer).set(bytes.subarray(0, n * 4));
  const label = new Uint8Array(bytes.subarray(n * 4, n * 5));
  return {
    id: entry.id,
    image: { data: image, shape: record.shape },
    label: { data: label, shape: record.shape },
    foreground: indexForeground(label, classes),
  };
}

async function writeCached(folder: string, prepared: PreparedCase, sources: SourceStamp[]): Promise<void> {
  const n = gridSize(prepared.image.shape);
  const bytes = new Uint8Array(n * 5);
  bytes.set(new Uint8Array(prepared.image.data.buffer, prepared.image.data.byteOffset, n * 4), 0);
  bytes.set(prepared.label.data, n * 4);
  await writeFileAtomic(join(folder, `${caseFileName(prepared.id)}.bin`), bytes);
  const record: CacheRecord = { id: prepared.id, sources, shape: prepared.image.shape };
  await writeFileAtomic(join(folder, `${caseFileName(prepared.id)}.json`), JSON.stringify(record));
}

/** Preprocessed cases, from the cache where it is current, else prepared now and cached. */
export async function loadPreparedCases(
  entries: readonly CaseEntry[],
  plan: PreprocessingPlan,
  folder: string,
  load: CanonicalLoader,
  onProgress?: (done: number, total: number, fromCache: number) => void,
): Promise<PreparedCase[]> {
  await mkdir(folder, { recursive: true });
  await writeFileAtomic(join(folder, 'plan.json'), JSON.stringify(plan, null, 2));
  const out: PreparedCase[] = [];
  let fromCache = 0;
  for (const entry of entries) {
    if (entry.label === undefined) {
      throw new EmonasError(
        'invalid_dataset',
        `The case ${entry.id} (${entry.image}) has no label map to train on.`,
        {
          file: entry.image,
        },
      );
    }
    const sources = [await stamp(entry.image), await stamp(entry.label)];
    let prepared = await readCached(folder, entry, sources, plan.labels.length);
    if (prepared) fromCache++;
    else {
      const { image, label } = await load(entry);
      prepared = prepareCase(entry.id, image, label, plan, entry.label);
      await writeCached(folder, prepared, sources);
    }
    out.push(prepared);
    onProgress?.(out.length, entries.length, fromCache);
  }
  return out;
}
