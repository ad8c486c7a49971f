// Runs in: a plain Node process (npm run bench:cli-startup). How long an `emonas` call takes before it does
// anything: `emonas --help` and `emonas train --help` as shipped (the train and predict commands import
// training, prediction and tfjs inside `run`), against the same commands with those modules imported up
// front, as every command module did before (bench/train/cli-eager.mjs, the peer). Each command runs
// as a fresh process, alternating with its peer; prints the median of --runs runs and the ratio.
// Options: --runs N (default 7).
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { median } from '../median.ts';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '7' } } });
const runs = Math.max(1, Number(values.runs));
const LAZY = fileURLToPath(new URL('../../bin/emonas.mjs', import.meta.url));
const EAGER = fileURLToPath(new URL('./cli-eager.mjs', import.meta.url));

function seconds(entry: string, args: string[]): number {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [entry, ...args], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${entry} ${args.join(' ')} failed: ${r.stderr}`);
  return (performance.now() - t0) / 1000;
}

// One untimed run each fills tsx's compile cache, as on any machine after the first call.
for (const entry of [LAZY, EAGER]) seconds(entry, ['--help']);

console.log(`emonas start-up, median of ${runs} fresh processes each (s)`);
console.log('command                 lazy imports  eager (before)  lazy / eager');
for (const args of [['--help'], ['train', '--help'], ['predict', '--help']]) {
  const lazy: number[] = [];
  const eager: number[] = [];
  for (let i = 0; i < runs; i++) {
    lazy.push(seconds(LAZY, args));
    eager.push(seconds(EAGER, args));
  }
  const [l, e] = [median(lazy), median(eager)];
  console.log(
    `${`emonas ${args.join(' ')}`.padEnd(24)}${l.toFixed(3).padStart(12)}${e.toFixed(3).padStart(16)}${(l / e).toFixed(2).padStart(14)}`,
  );
}
