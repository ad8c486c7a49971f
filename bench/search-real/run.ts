// Runs in: a plain Node process (npm run bench:search-real). Issue 14's proof on real data: at the demo's
// wall-clock budget on this machine, SaMEA (the demo's settings), random search and NSGA-II (the same quick
// preset, budget and repair of too-large networks), each over the same seeds, and the built-in `small`
// network trained by `emonas train` for the whole budget. The demo's 40 hippocampus cases are searched and
// trained on; the other 160 Task04_Hippocampus cases are the test set, used for nothing but this table. For
// each run: the final network's test Dice and parameters, and the run's Pareto front re-measured on the test
// set, as a hypervolume in (1 - test Dice, f2Norm) space with reference point (1, 1), f2Norm being the
// search's own scaling of ln params to [0, 1] over the search space.
//
//   npm run bench:search-real -- [--seeds 1,2,3] [--methods samea,random,nsga2,small] [--out <dir>]
//     [--search-minutes 9] [--finalize-minutes 9] [--workers 2] [--test-cases N] [--record <dir>]
//     [--report-only]
//
// The seeds 1, 2 and 3 were fixed before any result was seen. A run already in the output folder is
// continued (a scored one is read back), so an interrupted benchmark resumes; a continued run's wall time
// counts its last drive only, so time figures come from runs made in one go.
// --test-cases N scores on the first N test cases only: a quick check of the script, not a result.
// --record <dir> also keeps each scored run's row in dir (bench/record.ts; bench/measured/search-real is the
// committed one): a run recorded there is not run again, so the twelve runs (four hours of this machine) can be
// made over several sittings and machines. --report-only writes the table of the runs measured so far and
// names the missing ones, running nothing.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, openSync, closeSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { formatSeconds, ProgressBar } from '../../core/cli/progress.ts';
import type { Algorithm } from '../../core/search/config.ts';
import { hypervolume2d } from '../../core/search/pareto.ts';
import { DEMO_DATASET, DEMO_DEFAULTS, runDemo } from '../../core/service/search-demo.ts';
import { readJson } from '../../core/io/files.ts';
import { readModelCard } from '../../core/train/model-card.ts';
import { median } from '../median.ts';
import { provenance, RecordFolder, type Provenance } from '../record.ts';
import { outsideDemoFolder } from '../demo/outside-folder.ts';
import { testDice, type TestDice } from '../demo/test-dice.ts';

const EMONAS = fileURLToPath(new URL('../../bin/emonas.mjs', import.meta.url));
const SEARCHES: readonly Algorithm[] = ['samea', 'random', 'nsga2'];
const METHODS = [...SEARCHES, 'small'] as const;
type Method = (typeof METHODS)[number];

const { values } = parseArgs({
  options: {
    out: { type: 'string', default: 'bench/results/search-real' },
    dataset: { type: 'string', default: '/work/shared/data/Task04_Hippocampus' },
    seeds: { type: 'string', default: '1,2,3' },
    methods: { type: 'string', default: METHODS.join(',') },
    'search-minutes': { type: 'string', default: String(DEMO_DEFAULTS.searchMinutes) },
    'finalize-minutes': { type: 'string', default: String(DEMO_DEFAULTS.finalizeMinutes) },
    workers: { type: 'string', default: String(DEMO_DEFAULTS.workers) },
    'test-cases': { type: 'string' },
    record: { type: 'string' },
    'report-only': { type: 'boolean', default: false },
  },
});

const running = new Set<ChildProcess>();

function fail(message: string): never {
  for (const child of running) if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
  process.stderr.write(`bench:search-real: ${message}\n`);
  process.exit(2);
}

function positive(flag: 'search-minutes' | 'finalize-minutes' | 'workers' | 'test-cases'): number {
  const text = values[flag] as string;
  const n = Number(text);
  if (text.trim() === '' || !(n > 0)) fail(`--${flag} takes a positive number, not "${text}".`);
  return n;
}

const seeds = values.seeds.split(',').map((s) => Number(s.trim()));
if (seeds.length === 0 || seeds.some((s) => !Number.isInteger(s) || s < 0)) {
  fail(`--seeds takes whole numbers separated by commas, not "${values.seeds}".`);
}
const methods = values.methods.split(',').map((m) => m.trim()) as Method[];
const unknown = methods.filter((m) => !(METHODS as readonly string[]).includes(m));
if (unknown.length > 0) fail(`--methods names ${unknown.join(', ')}; choose from ${METHODS.join(', ')}.`);
const searchMinutes = positive('search-minutes');
const finalizeMinutes = positive('finalize-minutes');
const workers = positive('workers');
const testCases = values['test-cases'] === undefined ? null : positive('test-cases');
const out = resolve(values.out);
const settings = {
  seeds,
  searchMinutes,
  finalizeMinutes,
  workers,
  testCases,
  dataset: resolve(values.dataset),
};

await mkdir(out, { recursive: true });
const settingsFile = join(out, 'settings.json');
if (existsSync(settingsFile)) {
  const before = JSON.parse(await readFile(settingsFile, 'utf8')) as typeof settings;
  const same = (k: keyof typeof settings): boolean =>
    JSON.stringify(before[k]) === JSON.stringify(settings[k]);
  if (!(['searchMinutes', 'finalizeMinutes', 'workers', 'testCases', 'dataset'] as const).every(same)) {
    fail(`${out} holds runs made with other settings (${settingsFile}); use another --out.`);
  }
} else {
  await writeFile(settingsFile, JSON.stringify(settings, null, 2) + '\n');
}

const record =
  values.record === undefined
    ? null
    : await RecordFolder.open(values.record, {
        dataset: settings.dataset,
        searchMinutes,
        finalizeMinutes,
        workers,
        testCases,
      }).catch((err: Error) => fail(err.message));

interface TestSet {
  folder: string;
  cases: number;
}

/** The cases outside the demo's, linked into the output folder; needed only to score a run. */
async function openTestSet(): Promise<TestSet> {
  const set = await outsideDemoFolder(settings.dataset, join(out, 'test-set'), { limit: testCases });
  if (set.cases === 0)
    fail(`${settings.dataset} has no case outside the demo's; the test set would be empty.`);
  return set;
}

/** The front's hypervolume in (1 - test Dice, f2Norm) space, reference point (1, 1). */
function testHypervolume(front: Row['front']): number {
  return hypervolume2d(
    front.map((f) => [1 - f.testDice, f.f2Norm]),
    [1, 1],
  );
}

interface Row {
  method: Method;
  seed: number;
  wallSeconds: number;
  final: {
    params: number;
    test: TestDice;
    valDice: number | null;
    /** Epochs the final training ran in its budget (what a slow network lacks); absent in early rows. */
    epochs?: number | null;
  };
  /** The search's front re-measured on the test set (empty for `small`). */
  front: { id: string; params: number; f2Norm: number; testDice: number }[];
  hypervolume: number | null;
  /** The code and machine that measured the run (bench/record.ts); absent in rows made before it was kept. */
  provenance?: Provenance;
}

/** `emonas train` on the demo's cases and split settings, bounded by the whole budget's time. */
async function trainSmall(dir: string, seed: number): Promise<void> {
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  const log = openSync(join(dir, '..', 'emonas-train.log'), 'w');
  const args = [
    EMONAS,
    'train',
    ...['--dataset', DEMO_DATASET, '--genome', 'small', '--out', dir],
    ...['--epochs', '400', '--max-minutes', String(searchMinutes + finalizeMinutes)],
    ...['--seed', String(seed), '--val-fraction', String(DEMO_DEFAULTS.valFraction)],
    ...['--test-fraction', String(DEMO_DEFAULTS.testFraction)],
  ];
  const child = spawn(process.execPath, args, { detached: true, stdio: ['ignore', log, log] });
  running.add(child);
  const code = await new Promise<number | null>((done) => {
    child.once('exit', done);
    child.once('error', () => done(null));
  });
  running.delete(child);
  closeSync(log);
  if (code !== 0)
    fail(`emonas train of small (seed ${seed}) exited with ${code}; see ${dir}/../emonas-train.log.`);
}

const runName = (method: Method, seed: number): string => `${method}-seed${seed}`;
/** The folder of the network a run ends with: `small`'s training, or a search's final model. */
const modelDir = (method: Method, seed: number): string =>
  join(out, runName(method, seed), method === 'small' ? 'model' : 'final');

interface ModelResult {
  valDice?: Record<string, number>;
  epochsRun?: number;
}

/** The run's row if it was scored, in the output folder or the record (which it then joins). */
async function measuredRow(method: Method, seed: number): Promise<Row | null> {
  const rowFile = join(out, runName(method, seed), 'bench-row.json');
  if (existsSync(rowFile)) {
    const row = JSON.parse(await readFile(rowFile, 'utf8')) as Row;
    if (row.final.epochs === undefined) {
      const result = (await readJson(join(modelDir(method, seed), 'result.json'))) as ModelResult | undefined;
      row.final.epochs = result?.epochsRun ?? null;
    }
    if (record && !record.has(runName(method, seed))) await record.write(runName(method, seed), row);
    return row;
  }
  return record ? record.read<Row>(runName(method, seed)) : null;
}

async function measure(
  method: Method,
  seed: number,
  { folder: testFolder, cases }: TestSet,
  bar: ProgressBar,
  done: number,
): Promise<Row> {
  const runDir = join(out, runName(method, seed));
  const rowFile = join(runDir, 'bench-row.json');
  await mkdir(runDir, { recursive: true });
  const started = performance.now();
  const model = modelDir(method, seed);
  const front: Row['front'] = [];
  if (method === 'small') {
    bar.announce(`small seed ${seed}: training for ${formatSeconds((searchMinutes + finalizeMinutes) * 60)}`);
    await trainSmall(model, seed);
  } else {
    const summary = await runDemo(
      { out: runDir, seed, algorithm: method, searchMinutes, finalizeMinutes, workers },
      {
        onProgress: () => bar.update(done, `${method} seed ${seed}: searching`),
        onSearchDone: () => bar.announce(`${method} seed ${seed}: training the final network`),
      },
    );
    if (!summary.final) fail(`${runDir}: the run ended without a final model.`);
    bar.announce(
      `${method} seed ${seed}: scoring the front (${summary.front.length}) on ${cases} test cases`,
    );
    for (const f of summary.front) {
      const scored = await testDice(f.folder, testFolder, join(runDir, 'test-predictions', f.id));
      front.push({ id: f.id, params: f.params, f2Norm: f.f2Norm, testDice: scored.mean });
    }
  }
  const wallSeconds = (performance.now() - started) / 1000;
  bar.announce(`${method} seed ${seed}: scoring the final network on ${cases} test cases`);
  const card = await readModelCard(model);
  const result = JSON.parse(await readFile(join(model, 'result.json'), 'utf8')) as ModelResult;
  const val = Object.values(result.valDice ?? {});
  const row: Row = {
    method,
    seed,
    wallSeconds,
    final: {
      params: card.params,
      test: await testDice(model, testFolder, join(runDir, 'test-predictions', 'final')),
      valDice: val.length > 0 ? val.reduce((a, b) => a + b, 0) / val.length : null,
      epochs: result.epochsRun ?? null,
    },
    front,
    hypervolume: method === 'small' ? null : testHypervolume(front),
    provenance: provenance(),
  };
  await writeFile(rowFile, JSON.stringify(row, null, 2) + '\n');
  if (record) await record.write(runName(method, seed), row);
  return row;
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => fail('stopped; run the same command again to continue.'));
}

const jobs = methods.flatMap((method) => seeds.map((seed) => ({ method, seed })));
const measured = new Map<string, Row>();
for (const job of jobs) {
  const row = await measuredRow(job.method, job.seed).catch((err: Error) => fail(err.message));
  if (row) measured.set(runName(job.method, job.seed), row);
}
const pending = jobs.filter((job) => !measured.has(runName(job.method, job.seed)));
if (!values['report-only'] && pending.length > 0) await runPending();
const rows = jobs.flatMap((job) => measured.get(runName(job.method, job.seed)) ?? []);
const missing = jobs
  .filter((job) => !measured.has(runName(job.method, job.seed)))
  .map((job) => `${job.method} seed ${job.seed}`);
if (rows.length === 0) {
  fail(
    `none of the ${jobs.length} runs asked for is measured in ${out}${record ? ` or ${record.dir}` : ''}.`,
  );
}

async function runPending(): Promise<void> {
  const testSet = await openTestSet();
  process.stderr.write(
    `${jobs.length} runs, ${measured.size} measured already, ${pending.length} to run of ` +
      `${formatSeconds((searchMinutes + finalizeMinutes) * 60)} each; test set: ${testSet.cases} cases ` +
      `(${testSet.folder}); results in ${out}\n`,
  );
  const bar = new ProgressBar({
    label: 'Runs',
    total: pending.length,
    quietInterval: 30_000,
    // Each run's budget, plus about two minutes of scoring it on the test cases.
    expectedSeconds: pending.length * ((searchMinutes + finalizeMinutes) * 60 + 120),
  });
  for (const [i, job] of pending.entries()) {
    const row = await measure(job.method, job.seed, testSet, bar, i).catch((err: Error) =>
      fail(`${job.method} seed ${job.seed}: ${err.message}`),
    );
    measured.set(runName(job.method, job.seed), row);
    bar.update(
      i + 1,
      `${job.method} seed ${job.seed}: test Dice ${row.final.test.mean.toFixed(3)} in ${formatSeconds(row.wallSeconds)}`,
    );
  }
  bar.finish();
}

const fmt = (n: number | null, digits = 3): string => (n === null ? 'n/a' : n.toFixed(digits));
const middle = (xs: number[]): number | null => (xs.length > 0 ? median(xs) : null);
const lines = [
  `| method | seed | wall time | final params | final epochs | final test Dice (${Object.keys(rows[0]?.final.test.perLabel ?? {}).join(' / ')}) | mean | front size | front test hypervolume |`,
  '| --- | --- | --- | --- | --- | --- | --- | --- | --- |',
  ...rows.map(
    (r) =>
      `| ${r.method} | ${r.seed} | ${formatSeconds(r.wallSeconds)} | ${r.final.params.toLocaleString('en-US')} | ` +
      `${r.final.epochs ?? '-'} | ` +
      `${Object.values(r.final.test.perLabel)
        .map((d) => d.toFixed(3))
        .join(
          ' / ',
        )} | ${fmt(r.final.test.mean)} | ${r.method === 'small' ? '-' : r.front.length} | ${fmt(r.hypervolume)} |`,
  ),
  '',
  '| method | seeds measured | median final test Dice | median front test hypervolume |',
  '| --- | --- | --- | --- |',
  ...methods.map((m) => {
    const mine = rows.filter((r) => r.method === m);
    const hv = mine.flatMap((r) => (r.hypervolume === null ? [] : [r.hypervolume]));
    return `| ${m} | ${mine.length} | ${fmt(middle(mine.map((r) => r.final.test.mean)))} | ${fmt(middle(hv))} |`;
  }),
];
const caseCounts = [...new Set(rows.map((r) => r.final.test.cases))].join(' or ');
const markdown =
  `Test set: ${caseCounts} Task04_Hippocampus cases outside the demo's 40; budget ${searchMinutes} + ` +
  `${finalizeMinutes} minutes per run, ${workers} workers, seeds ${seeds.join(', ')}.` +
  (missing.length > 0 ? ` Not measured yet: ${missing.join(', ')}.` : '') +
  `\n\n${lines.join('\n')}\n`;
await writeFile(join(out, 'report.md'), markdown);
await writeFile(join(out, 'report.json'), JSON.stringify({ settings, rows }, null, 2) + '\n');
process.stdout.write(`\n${markdown}\nWritten: ${join(out, 'report.md')} and report.json\n`);
