// Runs in: a plain Node process (npm run bench:io). The "Reading volumes" benchmark: the 200 hippocampus
// cases (images and labels) and a large synthetic 256x256x128 scaled int16 .nii.gz, read by core/io and by
// nibabel in the same run, printed side by side with the ratio ours / nibabel (machines differ and are
// shared, so only ratios from one run mean much).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readVolume, readVolumeHeader } from '../../core/io/volume-files.ts';

const PYTHON = '/usr/bin/python3';
const PEER = join(dirname(fileURLToPath(import.meta.url)), 'nibabel_peer.py');
const ROOT = process.env.EMONAS_HIPPOCAMPUS ?? '/work/shared/data/Task04_Hippocampus';
const CACHE = join(tmpdir(), 'emonas-bench-io');
const LARGE = join(CACHE, 'synthetic_256x256x128_int16_scaled.nii.gz');
const REPEATS = Number(process.env.BENCH_REPEATS ?? 3);

function fail(message: string): never {
  process.stderr.write(`bench:io: ${message}\n`);
  process.exit(1);
}

function python(args: string[]): string {
  const r = spawnSync(PYTHON, [PEER, ...args], { encoding: 'utf8' });
  if (r.error !== undefined || r.status !== 0) {
    fail(`${PYTHON} with nibabel and numpy is needed as the peer: ${r.error?.message ?? r.stderr}`);
  }
  return r.stdout;
}

async function bestOf(run: () => Promise<unknown>): Promise<number> {
  let best = Infinity;
  for (let i = 0; i < REPEATS; i++) {
    const start = performance.now();
    await run();
    best = Math.min(best, performance.now() - start);
  }
  return best;
}

/** At most `width` reads in flight: zlib inflates on libuv's thread pool, so both cores can work. */
async function inParallel(
  files: string[],
  width: number,
  read: (f: string) => Promise<unknown>,
): Promise<void> {
  let next = 0;
  const lane = async () => {
    while (next < files.length) await read(files[next++] as string);
  };
  await Promise.all(Array.from({ length: width }, lane));
}

async function main(): Promise<void> {
  if (!existsSync(ROOT)) fail(`the hippocampus dataset is not at ${ROOT}; set EMONAS_HIPPOCAMPUS.`);
  const files = ['imagesTr', 'labelsTr'].flatMap((sub) =>
    readdirSync(join(ROOT, sub))
      .filter((n) => n.endsWith('.nii.gz') && !n.startsWith('.'))
      .map((n) => join(ROOT, sub, n)),
  );
  if (!existsSync(LARGE)) {
    mkdirSync(CACHE, { recursive: true });
    process.stderr.write(`bench:io: writing ${LARGE} once (nibabel)...\n`);
    python(['--make-large', LARGE]);
  }

  const sequential = async (read: (f: string) => Promise<unknown>) => {
    for (const f of files) await read(f);
  };
  await sequential(readVolume); // warm the file cache and the JIT before timing
  const ours = {
    headers: await bestOf(() => sequential(readVolumeHeader)),
    volumes: await bestOf(() => sequential(readVolume)),
    volumesParallel: await bestOf(() => inParallel(files, 8, readVolume)),
    large: await bestOf(() => readVolume(LARGE)),
  };
  const peer = JSON.parse(python([String(REPEATS), LARGE, ...files]).trim()) as Record<string, number>;

  const rows: [string, number, string, number][] = [
    [`${files.length} hippocampus headers only`, ours.headers, 'load + get_zooms', peer.headers ?? NaN],
    [
      `${files.length} hippocampus volumes, one at a time`,
      ours.volumes,
      'asanyarray(dataobj)',
      peer.native ?? NaN,
    ],
    [
      `${files.length} hippocampus volumes, one at a time`,
      ours.volumes,
      'get_fdata (float64)',
      peer.fdata ?? NaN,
    ],
    [
      `${files.length} hippocampus volumes, 8 in flight`,
      ours.volumesParallel,
      'asanyarray(dataobj)',
      peer.native ?? NaN,
    ],
    ['256x256x128 int16 scaled .nii.gz', ours.large, 'asanyarray(dataobj)', peer.large_native ?? NaN],
    ['256x256x128 int16 scaled .nii.gz', ours.large, 'get_fdata (float64)', peer.large_fdata ?? NaN],
  ];
  console.log(`Reading volumes: best of ${REPEATS}, ms (Node ${process.version}, ${PYTHON} nibabel)`);
  console.log('| read | core/io | nibabel | nibabel call | ours / nibabel |');
  console.log('|---|---:|---:|---|---:|');
  for (const [what, mine, call, theirs] of rows) {
    console.log(
      `| ${what} | ${mine.toFixed(0)} | ${theirs.toFixed(0)} | ${call} | ${(mine / theirs).toFixed(2)} |`,
    );
  }
}

await main();
