// Runs in: a plain Node process (npm run bench:estimate-check -- <run folder>...). The search wizard's
// estimate of time and disk checked against finished runs: for each run, the estimate the wizard would show
// for its settings (core/service/search-estimate.ts: a probe measured now on this machine, then
// core/search/estimate.ts), asked for the number of candidates the run actually trained (a run stopped by its
// time budget trains fewer than it planned), beside what the run measured: its wall time from creation to its
// last candidate's result, and its disk (the run folder without final/, plus its preprocessed cache). The
// estimate is asked with the run's own configuration and training settings, its protocol and bound included.
// Prints a Markdown table with the ratio estimated / measured per run; --write <file> also stores the rows
// and the ratios' range as JSON, which the wizard shows beside its estimate.
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { readRunManifest } from '../../core/runs/run-folder.ts';
import { estimateSearch } from '../../core/service/search-estimate.ts';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { write: { type: 'string' } },
});
if (positionals.length === 0) {
  process.stderr.write('usage: npm run bench:estimate-check -- <run folder>... [--write <file.json>]\n');
  process.exit(2);
}

function folderBytes(path: string, skip?: string): number {
  const info = statSync(path);
  if (!info.isDirectory()) return info.size;
  let total = 0;
  for (const name of readdirSync(path)) {
    const child = join(path, name);
    if (child !== skip) total += folderBytes(child, skip);
  }
  return total;
}

interface JournalLine {
  t: string;
  id?: string;
  at?: string;
}

interface Row {
  run: string;
  protocol: string;
  /** The mean parameter count the estimate priced disk at. */
  paramsPerCandidate: number;
  candidates: number;
  workers: number;
  estimatedSeconds: number;
  measuredSeconds: number;
  timeRatio: number;
  estimatedBytes: number;
  measuredBytes: number;
  diskRatio: number;
}

async function check(runDir: string): Promise<Row> {
  const manifest = readRunManifest(runDir) as unknown as {
    id: string;
    createdAt: string;
    search: Record<string, unknown>;
    problem: Record<string, unknown>;
    evaluation?: { slots?: number };
  };
  const lines = readFileSync(join(runDir, 'journal.jsonl'), 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as JournalLine);
  const results = lines.filter((l) => l.t === 'result' && l.at !== undefined);
  const last = results.at(-1)?.at;
  if (results.length === 0 || last === undefined)
    throw new Error(`${runDir} has no trained candidate to compare with`);
  const measuredSeconds = (Date.parse(last) - Date.parse(manifest.createdAt)) / 1000;
  const training = JSON.parse(readFileSync(join(runDir, 'training.json'), 'utf8')) as {
    cacheFolder?: string;
  };
  const cache =
    training.cacheFolder && existsSync(training.cacheFolder) ? folderBytes(training.cacheFolder) : 0;
  const measuredBytes = folderBytes(runDir, join(runDir, 'final')) + cache;

  const { kind: _kind, dataset, ...settings } = manifest.problem;
  const workers = manifest.evaluation?.slots ?? 1;
  // The run's configuration (its protocol included) and training settings (its split, batch and parameter
  // bound included), as search.start received them.
  const estimate = await estimateSearch({
    folder: String(dataset),
    config: { ...manifest.search, maxEvaluations: results.length },
    problem: settings,
    workers,
  });
  return {
    run: manifest.id,
    protocol: estimate.protocol,
    paramsPerCandidate: estimate.paramsPerCandidate,
    candidates: results.length,
    workers,
    estimatedSeconds: estimate.totalSeconds,
    measuredSeconds,
    timeRatio: estimate.totalSeconds / measuredSeconds,
    estimatedBytes: estimate.diskBytes,
    measuredBytes,
    diskRatio: estimate.diskBytes / measuredBytes,
  };
}

const minutes = (s: number) => `${Math.floor(s / 60)} min ${String(Math.round(s % 60)).padStart(2, '0')} s`;
const mb = (b: number) => `${(b / 1e6).toFixed(1)} MB`;

const rows: Row[] = [];
for (const dir of positionals) {
  const row = await check(resolve(dir));
  rows.push(row);
  process.stderr.write(
    `${row.run}: estimated ${minutes(row.estimatedSeconds)}, measured ${minutes(row.measuredSeconds)}\n`,
  );
}
process.stdout.write(
  '| run | protocol | candidates trained (workers) | estimated time | measured time | estimated / measured | parameters priced | estimated disk | measured disk | estimated / measured |\n' +
    '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n' +
    rows
      .map(
        (r) =>
          `| ${r.run} | ${r.protocol} | ${r.candidates} (${r.workers}) | ${minutes(r.estimatedSeconds)} | ${minutes(r.measuredSeconds)} | ${r.timeRatio.toFixed(2)} | ${r.paramsPerCandidate.toLocaleString('en')} | ${mb(r.estimatedBytes)} | ${mb(r.measuredBytes)} | ${r.diskRatio.toFixed(2)} |`,
      )
      .join('\n') +
    '\n',
);
if (values.write) {
  const range = (key: 'timeRatio' | 'diskRatio') => {
    const ratios = rows.map((r) => Number(r[key].toFixed(2)));
    return [Math.min(...ratios), Math.max(...ratios)];
  };
  const data = {
    command: `npm run bench:estimate-check -- ${positionals.join(' ')} --write ${values.write}`,
    measuredAt: new Date().toISOString().slice(0, 10),
    source: 'docs/benchmarks.md, "Search estimate against real runs"',
    time: range('timeRatio'),
    disk: range('diskRatio'),
    runs: rows,
  };
  writeFileSync(values.write, `${JSON.stringify(data, null, 2)}\n`);
  process.stderr.write(`wrote ${values.write}\n`);
}
