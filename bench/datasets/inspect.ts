// Runs in: a plain Node process (npm run bench:datasets). Times `inspectDataset` on the 200 Decathlon
// hippocampus cases against a nibabel + numpy peer doing the same reads in the same run, and prints both
// with their ratio (the machine is shared, so only the ratio means much).
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { inspectDataset } from '../../core/service/datasets.ts';

const RUNS = 5;
const folder =
  process.env.EMONAS_HIPPOCAMPUS ??
  fileURLToPath(new URL('../../../shared/data/Task04_Hippocampus', import.meta.url));

async function ours(): Promise<number> {
  let best = Infinity;
  for (let i = 0; i < RUNS; i++) {
    const start = performance.now();
    const report = await inspectDataset(folder);
    best = Math.min(best, (performance.now() - start) / 1000);
    if (report.summary.usable !== 200)
      throw new Error(`expected 200 usable cases, got ${report.summary.usable}`);
  }
  return best;
}

function peer(): number {
  const r = spawnSync(
    '/usr/bin/python3',
    [fileURLToPath(new URL('nibabel_peer.py', import.meta.url)), folder, String(RUNS)],
    { encoding: 'utf8' },
  );
  if (r.status !== 0)
    throw new Error(`The nibabel peer failed (needs /usr/bin/python3 with nibabel): ${r.stderr}`);
  return (JSON.parse(r.stdout) as { seconds: number }).seconds;
}

const emonas = await ours();
const nibabel = peer();
const row = (name: string, s: number) => `${name.padEnd(40)} ${s.toFixed(3).padStart(8)} s`;
console.log(`Inspecting ${folder} (200 cases, images + label maps), best of ${RUNS}`);
console.log(row('emonas inspectDataset', emonas));
console.log(row('nibabel load + dataobj + np.unique', nibabel));
console.log(`ratio emonas / nibabel: ${(emonas / nibabel).toFixed(2)}`);
