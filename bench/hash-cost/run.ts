// Runs in: a plain Node process (npm run bench:hash-cost). Times what a dataset search start spends
// recording the dataset's files in run.json (`datasetFiles` over the cases it trains and validates on, as
// core/service/search.ts does) on synthetic folders of real datasets' layouts and sizes, against Python's
// hashlib doing the same reads with the same 64 MiB rule in the same run, checking both give the same hashes.
// Each set is timed cold (its files dropped from the page cache) and warm, then deleted.
import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { isAbsolute, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { median } from '../median.ts';
import { readDatasetLayout } from '../../core/datasets/detect.ts';
import { splitByPatient } from '../../core/datasets/pipeline/split.ts';
import { datasetFiles, HASH_LIMIT, type DatasetCaseFiles } from '../../core/runs/dataset-files.ts';
import { SEARCH_TRAINING_DEFAULTS } from '../../core/train/setup/defaults.ts';
import {
  writeAcdcLike,
  writeLargeCtLike,
  writePromise12Like,
  writeTask04Like,
  type SyntheticDataset,
} from './synthetic-datasets.ts';

const work = join(tmpdir(), 'hash-cost');
/** Median of this many runs each side: cold ones alternate with the peer's, each after an eviction. */
const COLD_RUNS = 3;
/** Median of this many runs each side after one untimed run that fills the page cache. */
const WARM_RUNS = 5;
const python = '/usr/bin/python3';
const script = (name: string): string => fileURLToPath(new URL(name, import.meta.url));
const load = (): string => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');

function runPython(name: string, args: string[], files: string[]): string {
  const r = spawnSync(python, [script(name), ...args], {
    input: JSON.stringify(files),
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  if (r.status !== 0) throw new Error(`${name} failed (needs ${python}): ${r.stderr}`);
  return r.stdout;
}

/** hashlib's times of `runs` runs one after the other, and its hashes. */
function peer(files: string[], runs: number): { seconds: number[]; sha256: string[] } {
  return JSON.parse(runPython('hashlib_peer.py', [String(HASH_LIMIT), String(runs)], files)) as {
    seconds: number[];
    sha256: string[];
  };
}

/** The cases a search on `root` trains and validates on, with their files, as the search lists them. */
async function searchedCases(root: string, expected: number): Promise<{ id: string; files: string[] }[]> {
  const manifest = await readDatasetLayout(root);
  const usable = manifest.cases.filter((c) => c.subset === 'train' && c.problems.length === 0);
  if (usable.length !== expected) {
    throw new Error(`${root}: expected ${expected} usable training cases, the layout gave ${usable.length}`);
  }
  const split = splitByPatient(manifest.cases, {
    valFraction: SEARCH_TRAINING_DEFAULTS.valFraction,
    testFraction: SEARCH_TRAINING_DEFAULTS.testFraction,
    seed: SEARCH_TRAINING_DEFAULTS.splitSeed,
  });
  const byId = new Map(manifest.cases.map((c) => [c.id, c]));
  return [...split.train, ...split.val].map((id) => {
    const c = byId.get(id);
    if (c?.label === undefined) throw new Error(`${root}: split case ${id} has no label map`);
    return { id, files: [c.image, c.label] };
  });
}

async function ours(root: string, cases: { id: string; files: string[] }[]) {
  const start = performance.now();
  const files = await datasetFiles(root, cases);
  return { seconds: (performance.now() - start) / 1000, files };
}

interface Row {
  set: SyntheticDataset;
  files: number;
  hashedMB: number;
  cold: [number, number];
  warm: [number, number];
}

async function measure(write: (root: string) => SyntheticDataset): Promise<Row> {
  const root = join(work, 'dataset');
  rmSync(root, { recursive: true, force: true });
  const set = write(root);
  try {
    const cases = await searchedCases(root, set.cases);
    const listed: DatasetCaseFiles[] = (await ours(root, cases)).files;
    const records = listed.flatMap((c) => c.files);
    const paths = records.map((f) => (isAbsolute(f.path) ? f.path : join(root, f.path)));
    const hashedBytes = records.reduce((sum, f) => sum + (f.hashedBytes ?? f.bytes), 0);

    const oursCold: number[] = [];
    const peerCold: number[] = [];
    const answers: string[][] = [];
    for (let i = 0; i < COLD_RUNS; i++) {
      runPython('evict_cache.py', [], paths);
      const run = await ours(root, cases);
      oursCold.push(run.seconds);
      answers.push(run.files.flatMap((c) => c.files.map((f) => f.sha256)));
      runPython('evict_cache.py', [], paths);
      const answer = peer(paths, 1);
      peerCold.push(...answer.seconds);
      answers.push(answer.sha256);
    }
    await ours(root, cases);
    const oursWarm: number[] = [];
    for (let i = 0; i < WARM_RUNS; i++) oursWarm.push((await ours(root, cases)).seconds);
    const peerWarm = peer(paths, WARM_RUNS + 1);
    answers.push(peerWarm.sha256);

    const expected = listed.flatMap((c) => c.files.map((f) => f.sha256));
    for (const answer of answers) {
      if (answer.length !== expected.length || answer.some((h, i) => h !== expected[i])) {
        throw new Error(`${set.name}: a run's hashes differ from those of the first run of ours`);
      }
    }
    return {
      set,
      files: paths.length,
      hashedMB: hashedBytes / 1e6,
      cold: [median(oursCold), median(peerCold)],
      warm: [median(oursWarm), median(peerWarm.seconds.slice(1))],
    };
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

const started = performance.now();
console.log(`Node ${process.version}, ${python}; load average at start: ${load()}`);
const rows: Row[] = [];
for (const write of [writeTask04Like, writeAcdcLike, writePromise12Like, writeLargeCtLike]) {
  const row = await measure(write);
  console.log(`${row.set.name}: ${row.set.description}`);
  rows.push(row);
}
rmSync(work, { recursive: true, force: true });

const s = (x: number): string => x.toFixed(2);
const rate = (mb: number, x: number): string => (mb / x).toFixed(0);
console.log(
  '\n| set | files hashed | MB hashed | cache | ours s | ours MB/s | hashlib s | hashlib MB/s | ours / hashlib |',
);
console.log('| --- | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: |');
for (const r of rows) {
  for (const [cache, [a, b]] of [
    ['cold', r.cold],
    ['warm', r.warm],
  ] as const) {
    console.log(
      `| ${r.set.name} | ${r.files} | ${r.hashedMB.toFixed(0)} | ${cache} | ${s(a)} | ${rate(r.hashedMB, a)} | ${s(b)} | ${rate(r.hashedMB, b)} | ${(a / b).toFixed(2)} |`,
    );
  }
}
console.log(`\nload average at end: ${load()}; total ${((performance.now() - started) / 1000).toFixed(0)} s`);
