// Runs in: the emonas command's process. `emonas runs [<folder>]`: the search runs found in a folder (or
// the folder itself when it is a run), with their status and progress.
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { EmonasError } from '../base/errors.ts';
import { RUN_FILES } from '../runs/run-folder.ts';
import { listRuns, readRunSummary, type RunSummary } from '../service/search.ts';
import { parse, printJson, type Command } from './command.ts';

const usage = `Usage: emonas runs [<folder>] [--json]

Lists the search runs in <folder> (default: the current folder), or the run <folder> itself: algorithm,
problem, status (running, stopped, finished, finalized), candidates evaluated of those planned, failures
and the last activity.

Options:
  --json   an array of objects: runDir, id, algorithm, problem, status, evaluated, planned, failed, ...`;

export function runStatus(r: RunSummary): string {
  if (r.running) return 'running';
  if (r.finalized) return 'finalized';
  return r.finished ? 'finished' : 'stopped';
}

export const runsCommand: Command = {
  name: 'runs',
  summary: 'list the search runs in a folder with their status and progress',
  usage,
  async run(argv) {
    const { values, positionals } = parse('runs', argv, { json: { type: 'boolean' } });
    if (positionals.length > 1) throw new EmonasError('bad_request', 'emonas runs takes at most one folder');
    const folder = resolve(positionals[0] ?? '.');
    const runs = existsSync(join(folder, RUN_FILES.manifest))
      ? [readRunSummary(folder)]
      : listRuns({ root: folder });
    if (values.json) {
      printJson(runs.map((r) => ({ ...r, status: runStatus(r) })));
      return 0;
    }
    if (runs.length === 0) {
      process.stdout.write(`No search runs in ${folder}.\n`);
      return 0;
    }
    for (const r of runs) {
      process.stdout.write(
        `${r.runDir}  ${runStatus(r)}  ${r.algorithm} on ${r.problem}  ${r.evaluated}/${r.planned} evaluated${r.failed ? `, ${r.failed} failed` : ''}  last activity ${r.lastActivity ?? 'none'}\n`,
      );
    }
    return 0;
  },
};
