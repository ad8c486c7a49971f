// Runs in: a plain Node process (npm run bench:final-decay). What annealing the learning rate to the time
// limit does to a time-limited final training (core/train/job.ts learningRateDecay): each given search run
// is copied twice without its final model, and the same candidate is finalized from the same weights with
// the same time limit once annealed and once on the schedule alone (the plateau schedule, which a short
// training never reaches: a constant rate), the two arms alternating which goes first; each final model is
// scored on the Task04_Hippocampus cases outside the demo's 40. The search is shared, so the difference is
// the final training's alone.
//
//   npm run bench:final-decay -- --run <search run> [--run ...] [--out <dir>] [--minutes 9]
//     [--dataset <Task04 folder>] [--record <dir>] [--test-cases N]
//
// --test-cases N scores on the first N test cases only: a quick check of the script, not a result.
// A pair already scored in the output folder (or the record, bench/record.ts) is read back, so the benchmark
// resumes; an arm interrupted mid-training is trained again from the start, as its time limit counts
// from its start.
import { existsSync } from 'node:fs';
import { cp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { ProgressBar } from '../../core/cli/progress.ts';
import { finalize } from '../../core/service/search-finalize.ts';
import { outsideDemoFolder } from '../demo/outside-folder.ts';
import { testDice, type TestDice } from '../demo/test-dice.ts';
import { provenance, RecordFolder, type Provenance } from '../record.ts';

const ARMS = ['anneal', 'constant'] as const;
type Arm = (typeof ARMS)[number];

const { values } = parseArgs({
  options: {
    run: { type: 'string', multiple: true, default: [] },
    out: { type: 'string', default: 'bench/results/final-decay' },
    minutes: { type: 'string', default: '9' },
    dataset: { type: 'string', default: '/work/shared/data/Task04_Hippocampus' },
    record: { type: 'string' },
    'test-cases': { type: 'string' },
  },
});

function fail(message: string): never {
  process.stderr.write(`bench:final-decay: ${message}\n`);
  process.exit(2);
}

const minutes = Number(values.minutes);
if (!(minutes > 0)) fail(`--minutes takes a positive number, not "${values.minutes}".`);
const runs = values.run.map((r) => resolve(r));
if (runs.length === 0) fail('give at least one search run with --run <folder>.');
for (const run of runs) {
  if (!existsSync(join(run, 'run.json')) || !existsSync(join(run, 'training.json'))) {
    fail(`${run} is not a search run over a dataset (no run.json and training.json).`);
  }
}
const names = runs.map((r) => basename(r));
if (new Set(names).size !== names.length) fail(`two runs share a folder name: ${names.join(', ')}.`);
const out = resolve(values.out);
const dataset = resolve(values.dataset);
const limit = values['test-cases'] === undefined ? null : Number(values['test-cases']);
if (limit !== null && !(Number.isInteger(limit) && limit > 0)) {
  fail(`--test-cases takes a whole number above 0, not "${values['test-cases']}".`);
}
const record = values.record
  ? await RecordFolder.open(values.record, { dataset, minutes, testCases: limit }).catch((err: Error) =>
      fail(err.message),
    )
  : null;

interface ArmResult {
  arm: Arm;
  candidate: string;
  params: number;
  epochsRun: number;
  trainSeconds: number;
  test: TestDice;
}

interface Pair {
  run: string;
  /** The arm trained first (alternating from run to run). */
  first: Arm;
  arms: Record<Arm, ArmResult>;
  provenance: Provenance;
}

/** The run copied without its final model or anything scored from it. */
async function copyRun(from: string, to: string): Promise<void> {
  await rm(to, { recursive: true, force: true });
  const skipped = new Set(['final', 'final.partial', 'test-predictions', 'run.lock', 'bench-row.json']);
  await cp(from, to, {
    recursive: true,
    filter: (source) => !(dirname(source) === from && skipped.has(basename(source))),
  });
}

async function measureArm(run: string, arm: Arm, testFolder: string, dir: string): Promise<ArmResult> {
  const copy = join(dir, 'run');
  await copyRun(run, copy);
  const summary = await finalize({ runDir: copy, maxMinutes: minutes, anneal: arm === 'anneal' });
  if (summary.status !== 'completed') fail(`${copy}: the final training failed: ${summary.reason}`);
  const test = await testDice(summary.modelDir, testFolder, join(dir, 'test-predictions'));
  return {
    arm,
    candidate: summary.candidate,
    params: summary.params,
    epochsRun: summary.epochsRun,
    trainSeconds: summary.seconds,
    test,
  };
}

const { folder: testFolder, cases } = await outsideDemoFolder(dataset, join(out, 'test-set'), { limit });
if (cases === 0) fail(`${dataset} has no case outside the demo's; the test set would be empty.`);
await mkdir(out, { recursive: true });

const pairs: Pair[] = [];
const pending: number[] = [];
for (const [i, name] of names.entries()) {
  const file = join(out, name, 'pair.json');
  const found = existsSync(file)
    ? (JSON.parse(await readFile(file, 'utf8')) as Pair)
    : ((await record?.read<Pair>(name)) ?? null);
  if (found && record && !record.has(name)) await record.write(name, found);
  if (found) pairs.push(found);
  else pending.push(i);
}
const bar = new ProgressBar({
  label: 'Final trainings',
  total: pending.length * ARMS.length,
  quietInterval: 30_000,
  expectedSeconds: pending.length * ARMS.length * (minutes * 60 + 90),
});
let done = 0;
for (const i of pending) {
  const run = runs[i] as string;
  const name = names[i] as string;
  const first: Arm = i % 2 === 0 ? 'anneal' : 'constant';
  const order: Arm[] = first === 'anneal' ? ['anneal', 'constant'] : ['constant', 'anneal'];
  const arms: Partial<Record<Arm, ArmResult>> = {};
  for (const arm of order) {
    bar.update(done, `${name}: ${arm}`);
    arms[arm] = await measureArm(run, arm, testFolder, join(out, name, arm)).catch((err: Error) =>
      fail(`${name} (${arm}): ${err.message}`),
    );
    done++;
    bar.update(done, `${name}: ${arm} test Dice ${arms[arm]?.test.mean.toFixed(3)}`);
  }
  const pair: Pair = { run: name, first, arms: arms as Record<Arm, ArmResult>, provenance: provenance() };
  await writeFile(join(out, name, 'pair.json'), JSON.stringify(pair, null, 2) + '\n');
  if (record) await record.write(name, pair);
  pairs.push(pair);
}
bar.finish();

const lines = [
  `| run | candidate | params | epochs annealed / constant | test Dice annealed | test Dice constant | annealed - constant |`,
  '| --- | --- | ---: | ---: | ---: | ---: | ---: |',
  ...pairs.map((p) => {
    const a = p.arms.anneal;
    const c = p.arms.constant;
    return (
      `| ${p.run} | ${a.candidate} | ${a.params.toLocaleString('en-US')} | ${a.epochsRun} / ${c.epochsRun} | ` +
      `${a.test.mean.toFixed(3)} | ${c.test.mean.toFixed(3)} | ${(a.test.mean - c.test.mean).toFixed(3)} |`
    );
  }),
];
const markdown =
  `Final training of ${minutes} minutes, the same candidate and starting weights in both arms; test set: ` +
  `${cases} Task04_Hippocampus cases outside the demo's 40.\n\n${lines.join('\n')}\n`;
await writeFile(join(out, 'report.md'), markdown);
process.stdout.write(`\n${markdown}\nWritten: ${join(out, 'report.md')}\n`);
