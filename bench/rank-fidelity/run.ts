// Runs in: a plain Node process (npm run bench:rank-fidelity). Rank fidelity, measured (issue 14 item 1):
// every genome of a fixed set (genomes.json) trained on the demo's hippocampus data through `emonas train`
// with the cheap protocol a demo search gives each candidate and with a long one, then Kendall's tau and
// Spearman's rho between the cheap scores and the long validation error. Resumable: a genome already measured
// under a protocol in the output folder is not trained again and an interrupted long training resumes from
// its checkpoint, so an interrupted run (hours at full length) continues where it stopped, and another cheap
// protocol reuses the long trainings.
// Options: --out <dir> --genomes <file> --only <name,...> --dataset <folder> --seed --val-fraction
// --test-fraction --cheap-epochs --cheap-steps --cheap-minutes --cheap-parallel --long-epochs --long-steps
// --long-minutes --long-parallel --long-seeds <s,...> --alpha --beta --score f1|f1-full-budget|loss-sum|val-dice --only-cheap
// --backend <name>. --long-seeds repeats the long protocol with other weight seeds on the same split: the
// long validation error's own spread over initialisations, the noise no cheap score can rank below.
// --only-long trains the long protocol alone: the reusable hours, measured while the machine is busy with
// other work, with the cheap protocol (whose time limit a busy machine would distort) trained later.
// --record <dir> also keeps every measurement in dir (bench/record.ts; bench/measured/rank-fidelity is the
// committed one), and a genome measured there is not trained again: the long trainings (hours) can be made
// over several sittings and machines.
import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { formatSeconds, ProgressBar } from '../../core/cli/progress.ts';
import { RecordFolder } from '../record.ts';
import { countParams } from '../../core/nn/param-count.ts';
import { presetConfig } from '../../core/search/config.ts';
import { DEMO_DATASET, DEMO_DEFAULTS } from '../../core/service/search-demo.ts';
import { SEARCH_TRAINING_DEFAULTS } from '../../core/service/train-defaults.ts';
import { hardLimitSeconds } from '../../core/train/setup/launch.ts';
import { HIPPOCAMPUS_TASK, readGenomeSet, type NamedGenome } from './genome-set.ts';
import { buildReport, writeReport, type Measured, type Repeat } from './report.ts';
import { SCORES, type ScoreName } from './scores.ts';
import {
  checkedMeasurement,
  measure,
  protocolId,
  readMeasurement,
  type CommonSettings,
  type Measurement,
  type Protocol,
} from './train-cli.ts';

/**
 * The long protocol's defaults: the train command's 40 epochs of 50 steps (with them the small genome reached
 * 0.85 Dice on unseen cases in 12.5 minutes, issue 14), with 30 minutes instead of 17 for slower networks.
 * Whether that was long enough for a genome is measured, not assumed: the report's "settled" column.
 */
const LONG_DEFAULTS = { epochs: 40, steps: 50, minutes: 30, parallel: 1 } as const;

const quick = presetConfig('samea', 'quick');
const { values } = parseArgs({
  options: {
    out: { type: 'string', default: 'bench/results/rank-fidelity' },
    genomes: { type: 'string', default: fileURLToPath(new URL('genomes.json', import.meta.url)) },
    only: { type: 'string' },
    dataset: { type: 'string', default: DEMO_DATASET },
    seed: { type: 'string', default: String(SEARCH_TRAINING_DEFAULTS.splitSeed) },
    'val-fraction': { type: 'string', default: String(DEMO_DEFAULTS.valFraction) },
    'test-fraction': { type: 'string', default: String(DEMO_DEFAULTS.testFraction) },
    'cheap-epochs': { type: 'string', default: String(quick.objective.epochs) },
    'cheap-steps': { type: 'string', default: String(DEMO_DEFAULTS.stepsPerEpoch) },
    'cheap-minutes': { type: 'string', default: String(DEMO_DEFAULTS.candidateMinutes) },
    'cheap-parallel': { type: 'string', default: String(DEMO_DEFAULTS.workers) },
    'long-epochs': { type: 'string', default: String(LONG_DEFAULTS.epochs) },
    'long-steps': { type: 'string', default: String(LONG_DEFAULTS.steps) },
    'long-minutes': { type: 'string', default: String(LONG_DEFAULTS.minutes) },
    'long-parallel': { type: 'string', default: String(LONG_DEFAULTS.parallel) },
    'long-seeds': { type: 'string' },
    alpha: { type: 'string', default: String(quick.objective.alpha) },
    beta: { type: 'string', default: String(quick.objective.beta) },
    score: { type: 'string', default: 'f1' },
    'only-cheap': { type: 'boolean', default: false },
    'only-long': { type: 'boolean', default: false },
    backend: { type: 'string' },
    record: { type: 'string' },
  },
});

const running = new Set<ChildProcess>();

/** Stops every training command still running, with its training worker. */
function stopTrainings(): void {
  for (const child of running) if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
}

function fail(message: string): never {
  stopTrainings();
  process.stderr.write(`bench:rank-fidelity: ${message}\n`);
  process.exit(2);
}

function number(flag: keyof typeof values, min: number, whole: boolean): number {
  const text = values[flag] as string;
  const n = Number(text);
  if (text.trim() === '' || !Number.isFinite(n) || n < min || (whole && !Number.isInteger(n))) {
    fail(`--${flag} takes ${whole ? 'a whole number' : 'a number'} of at least ${min}, not "${text}".`);
  }
  return n;
}

if (!(SCORES as readonly string[]).includes(values.score)) {
  fail(`--score is one of ${SCORES.join(', ')}, not "${values.score}".`);
}
const primaryScore = values.score as ScoreName;
if (values.backend) process.env.EMONAS_BACKEND = values.backend;
const out = resolve(values.out);
const common: CommonSettings = {
  dataset: resolve(values.dataset),
  seed: number('seed', 0, true),
  valFraction: number('val-fraction', 0, false),
  testFraction: number('test-fraction', 0, false),
};
const cheapMinutes = number('cheap-minutes', 0, false);
const cheap: Protocol = {
  kind: 'cheap',
  epochs: number('cheap-epochs', 1, true),
  steps: number('cheap-steps', 1, true),
  minutes: cheapMinutes,
  hardLimitSeconds: hardLimitSeconds(cheapMinutes > 0 ? cheapMinutes * 60 : null),
};
const long: Protocol = {
  kind: 'long',
  epochs: number('long-epochs', 1, true),
  steps: number('long-steps', 1, true),
  minutes: number('long-minutes', 0, false),
  hardLimitSeconds: null,
};
const scoreSettings = {
  alpha: number('alpha', 0, false),
  beta: number('beta', 0, false),
  epochs: cheap.epochs,
};

let genomes: NamedGenome[];
try {
  genomes = await readGenomeSet(resolve(values.genomes));
} catch (err) {
  fail((err as Error).message);
}
if (values.only !== undefined) {
  const wanted = values.only.split(',').map((s) => s.trim());
  const unknown = wanted.filter((n) => !genomes.some((g) => g.name === n));
  if (unknown.length > 0) {
    fail(
      `--only names ${unknown.join(', ')}, not in ${values.genomes}; it has ${genomes.map((g) => g.name).join(', ')}.`,
    );
  }
  genomes = genomes.filter((g) => wanted.includes(g.name));
}

// The split and seed are part of every measurement in the folder; mixing two would compare unlike trainings.
await mkdir(out, { recursive: true });
const commonFile = join(out, 'common.json');
if (existsSync(commonFile)) {
  const before = await readFile(commonFile, 'utf8');
  if (before !== JSON.stringify(common, null, 2) + '\n') {
    fail(
      `${out} holds measurements of other data or split settings (${commonFile}: ${before.trim()}); use another --out.`,
    );
  }
} else {
  await writeFile(commonFile, JSON.stringify(common, null, 2) + '\n');
}

const record =
  values.record === undefined
    ? null
    : await RecordFolder.open(values.record, { ...common }).catch((err: Error) => fail(err.message));

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    stopTrainings();
    process.stderr.write('\nbench:rank-fidelity: stopped; run the same command again to continue.\n');
    process.exit(130);
  });
}

/** A protocol's trainings at the common seed, or its repeats with other weight seeds on the same split. */
interface Trainings {
  protocol: Protocol;
  weightSeed: number;
}

const trainingsId = (t: Trainings): string =>
  t.weightSeed === common.seed ? protocolId(t.protocol) : `${protocolId(t.protocol)}-seed${t.weightSeed}`;
const folder = (t: Trainings, g: NamedGenome): string => join(out, trainingsId(t), g.name);

/** Runs work over items, `parallel` at a time, in order. */
async function pool<T>(items: T[], parallel: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const lanes = Array.from({ length: Math.min(parallel, items.length) }, async () => {
    while (next < items.length) await work(items[next++] as T);
  });
  await Promise.all(lanes);
}

/** Every genome's measurement under the protocol: those in the folder, then the missing ones trained. */
async function phase(t: Trainings, parallel: number, train: boolean): Promise<Map<string, Measurement>> {
  const p = t.protocol;
  const done = new Map<string, Measurement>();
  const recordName = (g: NamedGenome): string => `${trainingsId(t)}/${g.name}`;
  for (const g of genomes) {
    try {
      const m = await readMeasurement(folder(t, g), g);
      if (m && record && !record.has(recordName(g))) await record.write(recordName(g), m);
      const recorded = !m && record ? await record.read<Measurement>(recordName(g)) : null;
      if (m) done.set(g.name, m);
      else if (recorded && record) {
        done.set(g.name, checkedMeasurement(recorded, g, join(record.dir, `${recordName(g)}.json`)));
      }
    } catch (err) {
      fail((err as Error).message);
    }
  }
  const pending = genomes.filter((g) => !done.has(g.name));
  const label = `${p.kind === 'cheap' ? 'Cheap' : 'Long'} trainings (${trainingsId(t)})`;
  if (pending.length === 0 || !train) {
    process.stderr.write(
      `${label}: ${done.size} of ${genomes.length} measured already${train ? '' : ', none trained now'}.\n`,
    );
    return done;
  }
  process.stderr.write(
    `${label}: ${done.size} measured already, ${pending.length} to train, ${parallel} at a time.\n`,
  );
  const bar = new ProgressBar({ label, total: pending.length, quietInterval: 0 });
  let finished = 0;
  await pool(pending, parallel, async (g) => {
    const m = await measure(g, p, common, folder(t, g), running, t.weightSeed).catch((err: Error) =>
      fail(err.message),
    );
    if (record) await record.write(recordName(g), m);
    done.set(g.name, m);
    finished++;
    const outcome =
      m.status === 'completed' ? `${m.epochsRun} epoch${m.epochsRun === 1 ? '' : 's'}` : 'failed';
    const detail = `${g.name}: ${outcome} in ${formatSeconds(m.wallSeconds)}`;
    if (finished < pending.length) bar.update(finished, detail);
    else bar.finish(detail);
  });
  return done;
}

process.stderr.write(`${genomes.length} genomes from ${values.genomes}; results in ${out}\n`);
if (values['only-cheap'] && values['only-long']) fail('--only-cheap and --only-long exclude each other.');
const longParallel = number('long-parallel', 1, true);
const cheapDone = await phase(
  { protocol: cheap, weightSeed: common.seed },
  number('cheap-parallel', 1, true),
  !values['only-long'],
);
const longDone = await phase(
  { protocol: long, weightSeed: common.seed },
  longParallel,
  !values['only-cheap'],
);

// Repeats of the long protocol with other weight seeds: those asked for now, and those already in the folder.
const askedSeeds = (values['long-seeds'] ?? '')
  .split(',')
  .filter((text) => text.trim() !== '')
  .map((text) => {
    const seed = Number(text);
    if (!Number.isInteger(seed) || seed < 0 || seed === common.seed) {
      fail(`--long-seeds takes whole numbers of 0 or more other than --seed ${common.seed}, not "${text}".`);
    }
    return seed;
  });
const repeatPrefix = `${protocolId(long)}-seed`;
const foundSeeds = [...(await readdir(out)), ...(record ? await readdir(record.dir) : [])]
  .filter((name) => name.startsWith(repeatPrefix))
  .map((name) => Number(name.slice(repeatPrefix.length)))
  .filter((seed) => Number.isInteger(seed) && seed >= 0 && seed !== common.seed);
const repeats: Repeat[] = [];
for (const weightSeed of [...new Set([...askedSeeds, ...foundSeeds])].sort((a, b) => a - b)) {
  const train = askedSeeds.includes(weightSeed) && !values['only-cheap'];
  const done = await phase({ protocol: long, weightSeed }, longParallel, train);
  repeats.push({ weightSeed, measured: done });
}

const measured: Measured[] = genomes.map((entry) => ({
  entry,
  params: countParams(entry.genome, HIPPOCAMPUS_TASK),
  cheap: cheapDone.get(entry.name) ?? null,
  long: longDone.get(entry.name) ?? null,
}));
const report = buildReport(measured, repeats, {
  common,
  cheap,
  long,
  scoreSettings,
  primaryScore,
  maxParams: DEMO_DEFAULTS.maxParams,
});
const { markdown, base } = await writeReport(out, report);
process.stdout.write(`\n${markdown}\nWritten: ${base}.json and ${base}.md\n`);
