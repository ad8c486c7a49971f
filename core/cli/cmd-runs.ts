// Runs in: the emonas command's process. `emonas runs [<folder>]`: the search runs found in a folder (or
// the folder itself when it is a run), with their status and progress.
import { existsSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { budgetStopText } from '../api/runs.ts';
import { EmonasError } from '../base/errors.ts';
import { runsIn, type RunSummary } from '../service/runs.ts';
import { parse, printJson, type Command } from './command.ts';

const usage = `Usage: emonas runs [<folder>] [--json]

Lists the search runs in <folder> (default: the current folder), or the run <folder> itself: algorithm,
problem, status (running, stopped, stopped-at-budget, cancelled, failed, finished, finalized), candidates
evaluated of those planned, failures and the last activity. A failed run also says why it failed; a run
whose search its time budget stopped (emonas demo's) says so, finalized or not, and emonas resume continues
its search; a run cancelled in the app says so: emonas resume refuses it, and what it evaluated stays.

Options:
  --json   an array of objects: runDir, id, algorithm, problem, status, evaluated, planned, failed,
           cancelled, ...`;

/**
 * A run cancelled before it finished is cancelled, as the engine lists it, even with a final model; a live
 * process still driving it shows as running.
 */
export function runStatus(r: RunSummary): string {
  if (r.running) return 'running';
  if (r.cancelled && !r.finished) return 'cancelled';
  if (r.finalized) return 'finalized';
  if (r.finished) return 'finished';
  if (r.failure !== null) return 'failed';
  return r.stoppedAtBudget ? 'stopped-at-budget' : 'stopped';
}

/**
 * What a listed run adds to its status: that it was cancelled and what is left to do with it, why it
 * failed, or that its time budget stopped its search.
 */
function runNote(r: RunSummary): string {
  if (runStatus(r) === 'cancelled') {
    const final = r.finalized ? `, and its final model in ${join(r.runDir, 'final')}` : '';
    return `  search cancelled, so emonas resume refuses it; what it evaluated stays (emonas front ${r.runDir})${final}`;
  }
  if (r.failure !== null) return `  reason: ${r.failure}`;
  if (r.stoppedAtBudget) {
    return `  search ${budgetStopText(r.stoppedAtBudget.minutes)}; emonas resume ${r.runDir} continues it`;
  }
  return '';
}

export const runsCommand: Command = {
  name: 'runs',
  summary: 'list the search runs in a folder with their status and progress',
  usage,
  async run(argv) {
    const { values, positionals } = parse('runs', argv, { json: { type: 'boolean' } });
    if (positionals.length > 1) throw new EmonasError('bad_request', 'emonas runs takes at most one folder');
    const folder = resolve(positionals[0] ?? '.');
    if (!existsSync(folder)) {
      throw new EmonasError(
        'not_found',
        `emonas runs: ${folder} does not exist; give a folder that holds runs.`,
        {
          file: folder,
        },
      );
    }
    if (!statSync(folder).isDirectory()) {
      throw new EmonasError(
        'bad_request',
        `emonas runs: ${folder} is a file, not a folder; give a run folder or a folder that holds runs.`,
        { file: folder },
      );
    }
    const runs = runsIn(folder);
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
        `${r.runDir}  ${runStatus(r)}  ${r.algorithm} on ${r.problem}  ${r.evaluated}/${r.planned} evaluated${r.failed ? `, ${r.failed} failed` : ''}  last activity ${r.lastActivity ?? 'none'}${runNote(r)}\n`,
      );
    }
    return 0;
  },
};
