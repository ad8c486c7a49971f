// Runs in: the emonas command's process. `emonas demo`: the headless main job. A quick search on the
// bundled hippocampus subset, then the final training of the most accurate network, ending with the
// front, the final model's validation Dice and where the run folder is.
import { budgetStopText } from '../api/runs.ts';
import { EmonasError } from '../base/errors.ts';
import { DEMO_DATASET, DEMO_DEFAULTS, DEMO_PLANNED_EVALUATIONS, runDemo } from '../service/search-demo.ts';
import { finalizeProgress, formatFinalize } from './cmd-finalize.ts';
import { formatFront } from './cmd-front.ts';
import { SearchDisplay, withInterrupt } from './cmd-search.ts';
import { numberOption, parse, printJson, protocolHelp, protocolOption, type Command } from './command.ts';
import { formatSeconds } from './progress.ts';

const usage = `Usage: emonas demo [--out <run folder>] [--seed S] [--workers N] [--search-minutes M] [--finalize-minutes M] [--protocol P] [--json]

Runs the whole method on the bundled demo dataset (40 hippocampus cases of the Medical Segmentation
Decathlon, in resources/demo): a quick SaMEA search (6 subproblems, 4 generations; each candidate
trained for up to ${DEMO_DEFAULTS.candidateMinutes} minutes; a network above ${DEMO_DEFAULTS.maxParams.toLocaleString('en-US')} parameters, too slow
for a CPU, is repaired to fit before it is trained; the search stops after ${DEMO_DEFAULTS.searchMinutes} minutes
at the latest), then the final training of the front's most accurate network, starting from its
weights in the search, for ${DEMO_DEFAULTS.finalizeMinutes} minutes. About 20 minutes on two CPU cores. It ends by
printing the Pareto front, the final model's validation Dice and the run folder; <run folder>/final
is a model folder for emonas predict --model. Ctrl-C stops it; running it again with the same --out
continues.

Options:
  --out <folder>          run folder (default ./${DEMO_DEFAULTS.out})
  --seed S                the search's seed (default ${DEMO_DEFAULTS.seed}, the quick preset's own; the outcome
                          varies from seed to seed); a continued run keeps the seed it started with
  --workers N             candidates trained at once (default ${DEMO_DEFAULTS.workers})
  --search-minutes M      the search's time budget (default ${DEMO_DEFAULTS.searchMinutes})
  --finalize-minutes M    the final training's time (default ${DEMO_DEFAULTS.finalizeMinutes})
${protocolHelp(26, ["(the search's candidates and the final training; a continued run keeps its own)"])}
  --json                  print the summary (front, final model, run folder) as JSON`;

export const demoCommand: Command = {
  name: 'demo',
  summary: 'search and finalize on the bundled hippocampus subset (about 20 minutes)',
  usage,
  async run(argv) {
    const { values, positionals } = parse(
      'demo',
      argv,
      {
        out: { type: 'string' },
        seed: { type: 'string' },
        workers: { type: 'string' },
        'search-minutes': { type: 'string' },
        'finalize-minutes': { type: 'string' },
        protocol: { type: 'string' },
        json: { type: 'boolean' },
      },
      false,
    );
    if (positionals.length > 0)
      throw new EmonasError('bad_request', 'emonas demo takes no positional arguments');
    const seed = numberOption('demo', values.seed, '--seed');
    const workers = numberOption('demo', values.workers, '--workers', 'positive');
    const searchMinutes = numberOption('demo', values['search-minutes'], '--search-minutes', 'positive');
    const finalizeMinutes = numberOption(
      'demo',
      values['finalize-minutes'],
      '--finalize-minutes',
      'positive',
    );
    const protocol = protocolOption('demo', values.protocol);
    const out = values.out ?? DEMO_DEFAULTS.out;
    process.stderr.write(`Demo: a quick search on ${DEMO_DATASET}, then the final training, into ${out}.\n`);
    const display = new SearchDisplay(
      DEMO_PLANNED_EVALUATIONS,
      (searchMinutes ?? DEMO_DEFAULTS.searchMinutes) * 60,
    );
    const progress = finalizeProgress(finalizeMinutes ?? DEMO_DEFAULTS.finalizeMinutes);
    const summary = await withInterrupt(
      `the demo stops; run emonas demo --out ${out} again to continue it`,
      (signal) =>
        runDemo(
          {
            out,
            ...(seed !== undefined && { seed }),
            ...(workers !== undefined && { workers }),
            ...(searchMinutes !== undefined && { searchMinutes }),
            ...(finalizeMinutes !== undefined && { finalizeMinutes }),
            ...(protocol !== undefined && { protocol }),
          },
          {
            signal,
            onEvent: display.onEvent,
            onProgress: display.onProgress,
            onSearchDone(search, byBudget) {
              display.finish();
              process.stderr.write(
                `Search ${byBudget ? budgetStopText(searchMinutes ?? DEMO_DEFAULTS.searchMinutes) : search.status}: ${search.evaluated} candidates evaluated, ${search.front.length} on the front${display.surrogateMs > 0 ? `; the longest surrogate fit took ${Math.round(display.surrogateMs)} ms` : ''}${byBudget ? `; emonas resume ${out} continues the search` : ''}.\n`,
              );
            },
            onFinalize: progress,
          },
        ),
    );
    progress.finish();
    if (values.json) {
      printJson(summary);
      return summary.status === 'finished' ? 0 : 130;
    }
    process.stdout.write(`\nPareto front (${summary.front.length} networks, most accurate first):\n`);
    process.stdout.write(formatFront(summary.front));
    if (summary.final) process.stdout.write('\n' + formatFinalize(summary.final));
    process.stdout.write(
      `\nRun folder: ${summary.runDir} (${formatSeconds(summary.seconds)})${summary.status === 'stopped' ? `; stopped: run emonas demo --out ${out} again to continue` : ''}.\n`,
    );
    return summary.status === 'finished' && summary.final?.status === 'completed' ? 0 : 1;
  },
};
