// Runs in: a plain Node process (the search benchmark; `npm run bench:search`). SaMEA with and without its
// surrogate, NSGA-II and random search, and Optuna 3.1's NSGA-II sampler as the external peer
// (bench/search/optuna_peer.py under /usr/bin/python3), all on the formula problem at equal numbers of
// trained candidates over several seeds. Prints the median hypervolume after 110, 200 and 400 evaluations as
// a ratio to the true front's (enumerated over all 1,977,624 architectures), with its spread.
//
//   npm run bench:search -- [--seeds 10] [--jobs 2] [--ml-random-forest-seeds 0] [--skip-surrogate]
//
// --skip-surrogate leaves out SaMEA with its surrogate (minutes per run; everything else takes seconds).
// --ml-random-forest-seeds n adds SaMEA with the ml-random-forest engine refitted once per generation
// (about half an hour per run on this machine).
//
// Jobs (the true front, and one run of one method on one seed each) run in child processes, --jobs at a time.
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { countParams } from '../../core/nn/param-count.ts';
import { point } from '../../core/search/archive.ts';
import { resolveSearchConfig } from '../../core/search/config.ts';
import { createStrategy } from '../../core/search/create-strategy.ts';
import type { Point2 } from '../../core/search/decomposition.ts';
import { formulaTrueFront } from '../../core/search/formula-front.ts';
import { formulaEvaluator } from '../../core/search/formula-problem.ts';
import { normaliseF1, referenceNormalisation } from '../../core/search/normalisation.ts';
import { kendallTau } from '../../core/search/kendall.ts';
import { hypervolume2d } from '../../core/search/pareto.ts';
import { runInMemory } from '../../core/search/run-in-memory.ts';
import { CandidateMaker, type StrategyContext } from '../../core/search/strategy-kit.ts';
import { RandomForestSurrogate } from '../../core/search/surrogate.ts';
import { cachedParamCounter } from '../../core/searchspace/param-counter.ts';

const BUDGET = 400;
const CHECKPOINTS = [110, 200, 400] as const;
const REFERENCE: Point2 = [1.1, 1.1];
const POPULATION = 10;
const PYTHON = '/usr/bin/python3';
const SELF = fileURLToPath(import.meta.url);
const PEER = fileURLToPath(new URL('./optuna_peer.py', import.meta.url));

/** Search settings per method; every run stops at BUDGET trained candidates. */
const SURROGATE = 'SaMEA + surrogate (fast-cart, refit per child)';
const METHODS: Record<string, Record<string, unknown>> = {
  [SURROGATE]: {
    algorithm: 'samea',
    surrogate: { engine: 'fast-cart' },
  },
  'SaMEA, no surrogate': { algorithm: 'samea', surrogate: { enabled: false } },
  'SaMEA, no surrogate, w1 over [0, 1]': {
    algorithm: 'samea',
    surrogate: { enabled: false },
    weightRange: [0, 1],
  },
  'NSGA-II (ours)': { algorithm: 'nsga2' },
  'random search': { algorithm: 'random' },
};
const ML_RF = 'SaMEA + surrogate (ml-random-forest, refit per generation)';
const ML_RF_SETTINGS = {
  algorithm: 'samea',
  surrogate: { engine: 'ml-random-forest', refit: 'per-generation' },
};
const OPTUNA = 'Optuna 3.1 NSGAIISampler (peer)';

type Job =
  { kind: 'front' } | { kind: 'search'; method: string; seed: number } | { kind: 'optuna'; seed: number };
interface JobResult {
  job: Job;
  seconds: number;
  hypervolume?: number;
  frontSize?: number;
  checkpoints?: number[];
  kendallTau?: number | null;
}

const paramCounter = cachedParamCounter((g) => countParams(g, { inChannels: 1, classes: 1 }));
const context: StrategyContext = {
  paramCounter,
  normalisation: referenceNormalisation(paramCounter, 0.25, 0.25),
};

function checkpoints(points: Point2[]): number[] {
  return CHECKPOINTS.map((k) => hypervolume2d(points.slice(0, k), REFERENCE));
}

function searchJob(method: string, seed: number): JobResult {
  const started = performance.now();
  const settings = method === ML_RF ? ML_RF_SETTINGS : (METHODS[method] as Record<string, unknown>);
  // Generations only bound the run; the budget ends it. SaMEA keeps the paper's 40-generation mutation schedule.
  const extra = settings.algorithm === 'samea' ? { mutation: { horizon: 40 } } : {};
  const config = resolveSearchConfig({
    ...settings,
    ...extra,
    seed,
    maxEvaluations: BUDGET,
    generations: 10_000,
  });
  const strategy = createStrategy(config, context);
  runInMemory(strategy, formulaEvaluator(), new RandomForestSurrogate());
  const archive = strategy.archive();
  const screened = archive.filter((e) => e.spec.prediction !== null && !e.failed);
  return {
    job: { kind: 'search', method, seed },
    seconds: (performance.now() - started) / 1000,
    // A failure would count as an evaluation without a point; the noise-free formula problem has none.
    checkpoints: checkpoints(archive.map((e) => (e.failed ? REFERENCE : point(e)))),
    kendallTau: kendallTau(
      screened.map((e) => e.spec.prediction?.mean ?? 0),
      screened.map((e) => e.f1Norm),
    ),
  };
}

async function optunaJob(seed: number): Promise<JobResult> {
  const started = performance.now();
  const maker = new CandidateMaker(seed, context);
  const evaluate = formulaEvaluator();
  const points: Point2[] = [];
  const peer = spawn(PYTHON, [PEER, String(seed), String(BUDGET), String(POPULATION)], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const failed = new Promise<never>((_, reject) => {
    peer.on('error', reject);
    peer.on('exit', (code) => {
      if (code !== 0)
        reject(new Error(`${PYTHON} ${PEER} exited with ${code}; it needs optuna 3.1 (see the header).`));
    });
  });
  const lines = createInterface({ input: peer.stdout });
  const talk = (async () => {
    for await (const line of lines) {
      const message = JSON.parse(line) as { indices?: number[]; done?: boolean };
      if (message.done) break;
      const spec = maker.make(message.indices as number[], {
        id: `optuna-${points.length}`,
        generation: 0,
        phase: 'random',
      });
      const outcome = evaluate(spec);
      const f1 = outcome.status === 'completed' ? normaliseF1(outcome.f1, context.normalisation) : 1;
      points.push([f1, spec.f2Norm]);
      peer.stdin.write(JSON.stringify({ f1, f2: spec.f2Norm }) + '\n');
    }
  })();
  await Promise.race([talk, failed]);
  peer.stdin.end();
  return {
    job: { kind: 'optuna', seed },
    seconds: (performance.now() - started) / 1000,
    checkpoints: checkpoints(points),
  };
}

function frontJob(): JobResult {
  const started = performance.now();
  const front = formulaTrueFront(paramCounter, context.normalisation);
  return {
    job: { kind: 'front' },
    seconds: (performance.now() - started) / 1000,
    hypervolume: hypervolume2d(front.points, REFERENCE),
    frontSize: front.points.length,
  };
}

async function runJob(job: Job): Promise<JobResult> {
  if (job.kind === 'front') return frontJob();
  if (job.kind === 'optuna') return optunaJob(job.seed);
  return searchJob(job.method, job.seed);
}

/** Runs a job in a child process and returns what it printed. */
function inChild(job: Job): Promise<JobResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', SELF, '--job', JSON.stringify(job)], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.on('error', reject);
    child.on('exit', (code) => {
      if (code === 0) resolve(JSON.parse(out.trim().split('\n').pop() as string) as JobResult);
      else reject(new Error(`benchmark job ${JSON.stringify(job)} failed with exit code ${code}`));
    });
  });
}

async function pool(jobs: Job[], width: number, done: (r: JobResult) => void): Promise<JobResult[]> {
  const results: JobResult[] = [];
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < jobs.length) {
      const result = await inChild(jobs[next++] as Job);
      results.push(result);
      done(result);
    }
  };
  await Promise.all(Array.from({ length: width }, worker));
  return results;
}

function quantile(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (sorted.length - 1) * q;
  const lo = Math.floor(at);
  return (sorted[lo] as number) + ((sorted[Math.ceil(at)] as number) - (sorted[lo] as number)) * (at - lo);
}

function median(values: number[]): number {
  return quantile(values, 0.5);
}

function describe(job: Job): string {
  return job.kind === 'front'
    ? 'true front'
    : `${job.kind === 'optuna' ? OPTUNA : job.method} seed ${job.seed}`;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      job: { type: 'string' },
      seeds: { type: 'string', default: '10' },
      jobs: { type: 'string', default: '2' },
      'ml-random-forest-seeds': { type: 'string', default: '0' },
      'skip-surrogate': { type: 'boolean', default: false },
    },
  });
  if (values.job !== undefined) {
    process.stdout.write(JSON.stringify(await runJob(JSON.parse(values.job) as Job)) + '\n');
    return;
  }
  const seeds = Array.from({ length: Number(values.seeds) }, (_, i) => i);
  const jobs: Job[] = [
    { kind: 'front' },
    ...Array.from({ length: Number(values['ml-random-forest-seeds']) }, (_, seed) => ({
      kind: 'search' as const,
      method: ML_RF,
      seed,
    })),
    ...seeds.flatMap((seed) => [
      ...Object.keys(METHODS)
        .filter((method) => !(values['skip-surrogate'] && method === SURROGATE))
        .map((method) => ({ kind: 'search' as const, method, seed })),
      { kind: 'optuna' as const, seed },
    ]),
  ];
  const started = performance.now();
  process.stderr.write(`search benchmark: ${jobs.length} jobs, ${values.jobs} at a time\n`);
  const results = await pool(jobs, Number(values.jobs), (r) =>
    process.stderr.write(`  ${describe(r.job)}: ${r.seconds.toFixed(1)} s\n`),
  );
  const front = results.find((r) => r.job.kind === 'front') as JobResult;
  const trueHv = front.hypervolume as number;
  const lines = [
    `True front: ${front.frontSize} points, hypervolume ${trueHv.toFixed(4)} (reference point (1.1, 1.1), normalised objectives), enumerated in ${front.seconds.toFixed(0)} s.`,
    `Hypervolume of each run's evaluated candidates over the true front's, median [25th-75th percentile] (min) over seeds; ${BUDGET} evaluations per run.`,
    '',
    `| method | seeds | after ${CHECKPOINTS.join(' | after ')} | s per run | tau, predicted vs realised f1 |`,
    `| --- | --- | ${CHECKPOINTS.map(() => '---').join(' | ')} | --- | --- |`,
  ];
  for (const name of [ML_RF, ...Object.keys(METHODS), OPTUNA]) {
    const runs = results.filter((r) =>
      name === OPTUNA ? r.job.kind === 'optuna' : r.job.kind === 'search' && r.job.method === name,
    );
    if (runs.length === 0) continue;
    const cells = CHECKPOINTS.map((_, i) => {
      const ratios = runs.map((r) => (r.checkpoints?.[i] as number) / trueHv);
      return `${median(ratios).toFixed(3)} [${quantile(ratios, 0.25).toFixed(3)}-${quantile(ratios, 0.75).toFixed(3)}] (${Math.min(...ratios).toFixed(3)})`;
    });
    const taus = runs.map((r) => r.kendallTau).filter((t): t is number => typeof t === 'number');
    const tau = taus.length > 0 ? median(taus).toFixed(2) : '-';
    lines.push(
      `| ${name} | ${runs.length} | ${cells.join(' | ')} | ${median(runs.map((r) => r.seconds)).toFixed(1)} | ${tau} |`,
    );
  }
  lines.push(
    '',
    `Wall time ${((performance.now() - started) / 1000).toFixed(0)} s with ${values.jobs} jobs at a time.`,
  );
  process.stdout.write(lines.join('\n') + '\n');
}

await main();
