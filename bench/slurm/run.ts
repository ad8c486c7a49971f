// Runs in: a plain Node process (the Slurm benchmark; `npm run bench:slurm`), on a machine where the
// single-node cluster of scripts/slurm/up.sh runs. What sending candidates to Slurm costs: the same formula
// search (SaMEA, 12 candidates in two batches of 6, each candidate 2 "epochs" of 500 ms) through the
// in-process executor with 2 slots (the peer) and through Slurm with 2 GPUs; the fixed cost of one task
// (starting `emonas worker`, against starting a bare node); one squeue poll and one sbatch of a 6-task
// array, against spawning /bin/true. Prints side-by-side figures and ratios.
//
//   npm run bench:slurm -- [--repeats 5]
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import {
  formulaEvaluatorSpec,
  slurmExecutorForRun,
  slurmJobName,
} from '../../core/executors/slurm/create.ts';
import { EMONAS_ENTRY } from '../../core/executors/slurm/job-script.ts';
import { SlurmCommands } from '../../core/executors/slurm/slurm-commands.ts';
import { countParams } from '../../core/nn/param-count.ts';
import { parseFormulaProblem } from '../../core/search/problem-input.ts';
import { formulaExecutor, startSearch } from '../../core/service/search.ts';
import { runWorker } from '../../core/service/worker.ts';
import { cachedParamCounter } from '../../core/searchspace/param-counter.ts';

const { values } = parseArgs({ options: { repeats: { type: 'string', default: '5' } } });
const repeats = Math.max(1, Number(values.repeats));
const CONFIG = {
  preset: 'quick',
  seed: 3,
  population: 6,
  generations: 2,
  learningGenerations: 1,
  evaluationOrder: 'generation',
  surrogate: { trees: 30 },
};
const EPOCHS = 2;
const EPOCH_MS = 500;
const SLURM = {
  timeLimitMinutes: 10,
  gpusPerTask: 1,
  cpusPerTask: 1,
  maxConcurrent: 2,
  pollSeconds: 1,
  warningSeconds: 0,
};

const root = mkdtempSync(join(tmpdir(), 'emonas-bench-slurm-'));
const jobNames: string[] = [];

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
}

async function timed(run: () => unknown): Promise<number> {
  const t = performance.now();
  await run();
  return (performance.now() - t) / 1000;
}

function spawnSeconds(file: string, args: string[]): number {
  const t = performance.now();
  const r = spawnSync(file, args, { stdio: 'ignore' });
  if (r.status !== 0) throw new Error(`${file} ${args.join(' ')} exited with ${r.status}`);
  return (performance.now() - t) / 1000;
}

try {
  const sinfo = spawnSync('sinfo', ['--noheader', '--format=%t'], { encoding: 'utf8' });
  if (sinfo.status !== 0 || !/idle|mix/.test(sinfo.stdout)) {
    throw new Error('No idle Slurm node: start the test cluster with scripts/slurm/up.sh (as root) first.');
  }
  const problem = parseFormulaProblem({ kind: 'formula', delayMs: EPOCHS * EPOCH_MS });
  const counter = cachedParamCounter((g) => countParams(g, { inChannels: 1, classes: 1 }));

  const local = await timed(() =>
    startSearch(
      { runDir: join(root, 'local'), config: CONFIG, problem: { kind: 'formula' } },
      { executor: formulaExecutor(problem, counter, 2) },
    ),
  );
  const runDir = join(root, 'slurm');
  jobNames.push(slurmJobName(runDir));
  const slurm = await timed(() =>
    startSearch(
      { runDir, config: CONFIG, problem: { kind: 'formula' } },
      {
        executor: slurmExecutorForRun({
          runDir,
          slurmConfig: SLURM,
          evaluator: formulaEvaluatorSpec(problem, { epochs: EPOCHS, epochMs: EPOCH_MS }),
        }),
      },
    ),
  );

  // A task whose result exists: `emonas worker` starts, finds it, and exits. That is the fixed cost.
  const first = execFileSync('ls', [join(runDir, 'slurm', 'batches')], { encoding: 'utf8' }).split('\n')[0];
  const spec = join(runDir, 'slurm', 'batches', first as string, '0.json');
  await runWorker({ candidate: spec });
  const workerStart = median(
    Array.from({ length: repeats }, () =>
      spawnSeconds(process.execPath, [EMONAS_ENTRY, 'worker', '--candidate', spec]),
    ),
  );
  const nodeStart = median(Array.from({ length: repeats }, () => spawnSeconds(process.execPath, ['-e', ''])));

  const commands = new SlurmCommands(null);
  const polls: number[] = [];
  for (let i = 0; i < repeats * 4; i++) polls.push(await timed(() => commands.squeue(slurmJobName(runDir))));
  const spawnTrue = median(Array.from({ length: repeats * 4 }, () => spawnSeconds('/bin/true', [])));
  const script = join(root, 'hold.sbatch');
  execFileSync('bash', [
    '-c',
    `printf '#!/bin/bash\\n#SBATCH --job-name=emonas-bench-hold\\n#SBATCH --array=0-5\\n#SBATCH --output=/dev/null\\n#SBATCH --hold\\nsleep 1\\n' > '${script}'`,
  ]);
  jobNames.push('emonas-bench-hold');
  const submits: number[] = [];
  for (let i = 0; i < repeats; i++) submits.push(await timed(() => commands.sbatch(script)));

  const rows: [string, number, string, number][] = [
    ['search, 12 candidates, 2 at a time: Slurm', slurm, 'in-process executor, 2 slots', local],
    ['start of one `emonas worker` task', workerStart, '`node -e ""`', nodeStart],
    ['one squeue poll (all of a run)', median(polls), 'spawn /bin/true', spawnTrue],
    ['sbatch of a 6-task array', median(submits), 'spawn /bin/true', spawnTrue],
  ];
  const line = (cells: string[]): string => `| ${cells.join(' | ')} |`;
  console.log(line(['what', 'time (s)', 'peer', 'peer (s)', 'ratio']));
  console.log(line(['---', '---:', '---', '---:', '---:']));
  for (const [what, t, peer, p] of rows) {
    console.log(line([what, t.toFixed(3), peer, p.toFixed(3), (t / p).toFixed(2)]));
  }
  const waves = 6; // two batches of 6 candidates on 2 GPUs
  console.log(
    `\nSlurm overhead per wave of 2 candidates: ${((slurm - local) / waves).toFixed(2)} s (scheduling, worker start, polling).`,
  );
} finally {
  for (const name of jobNames) spawnSync('scancel', [`--name=${name}`]);
  rmSync(root, { recursive: true, force: true });
}
