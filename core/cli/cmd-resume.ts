// Runs in: the emonas command's process. `emonas resume <run folder>`: continues a stopped or crashed
// search exactly where its journal ends, with the same progress display and Ctrl-C as emonas search.
import { EmonasError } from '../base/errors.ts';
import { plannedForRun } from '../service/runs.ts';
import { resume } from '../service/search.ts';
import { printSummary, resumeHint, SearchDisplay, withInterrupt } from './cmd-search.ts';
import { numberOption, parse, type Command } from './command.ts';

const usage = `Usage: emonas resume <run folder> [--workers N] [--json]

Continues a search that was stopped (Ctrl-C) or interrupted (a crash, a reboot). The journal is replayed,
so the search goes on exactly as if it had never stopped: completed candidates are never trained again,
and the ones that were in training are trained again from the start. A run on Slurm reattaches to the
jobs it left running. A run cancelled in the app is refused, as the app refuses it: start a new search.

Options:
  --workers N   candidates trained at once (default: as many as the run had)
  --json        print the summary (status, evaluated, front) as JSON`;

export const resumeCommand: Command = {
  name: 'resume',
  summary: 'continue a stopped or interrupted search exactly where it left off',
  usage,
  async run(argv) {
    const { values, positionals } = parse('resume', argv, {
      workers: { type: 'string' },
      json: { type: 'boolean' },
    });
    const [runDir, ...rest] = positionals;
    if (runDir === undefined || rest.length > 0) {
      throw new EmonasError('bad_request', 'emonas resume takes one run folder (see emonas resume --help)');
    }
    const workers = numberOption('resume', values.workers, '--workers', 'count');
    const display = new SearchDisplay(plannedForRun(runDir));
    const summary = await withInterrupt(resumeHint(runDir), (signal) =>
      resume(
        { runDir, ...(workers !== undefined && { workers }) },
        { signal, onEvent: display.onEvent, onProgress: display.onProgress },
      ),
    );
    display.finish();
    printSummary(summary, Boolean(values.json));
    return summary.status === 'finished' ? 0 : 130;
  },
};
