// Runs in: the emonas command's process. `emonas finalize <run folder>`: trains the chosen network of a
// search again, for longer, into <run folder>/final, with a progress bar and a clean Ctrl-C.
import { EmonasError } from '../base/errors.ts';
import {
  FINALIZE_DEFAULTS,
  finalize,
  REFERENCE_FINAL,
  type FinalizeHooks,
  type FinalizeSummary,
} from '../service/search-finalize.ts';
import { withInterrupt } from './cmd-search.ts';
import { numberOption, parse, printJson, protocolOption, type Command } from './command.ts';
import { formatSeconds, ProgressBar } from './progress.ts';

const usage = `Usage: emonas finalize <run folder> [--candidate <id>] [--fresh] [--epochs N] [--max-minutes M] [--protocol P] [--json]

The search's final-training step: trains the chosen network (default: the front's most accurate) again,
for longer, on the run's own split and preprocessing, and stores it as the run's final model in
<run folder>/final, a model folder for emonas predict --model. Finalizing again replaces it.

It starts from the candidate's best weights of the search (candidates/<id>/weights.bin), so the search's
training is not thrown away, with a new optimizer and the final training's own learning-rate schedule;
<run folder>/final/finalize.json records which weights (candidate and SHA-256) it started from. Weights
that do not fit the network stop it with a message naming the file. An interrupted finalize (Ctrl-C)
continues from its own last completed epoch when run again with the same options.

Options:
  --candidate <id>      a candidate that completed (see emonas front <run folder>)
  --fresh               start from a new random initialisation instead of the candidate's weights
  --epochs N            epochs (default ${FINALIZE_DEFAULTS.epochs}; ${REFERENCE_FINAL.epochs} under --protocol reference)
  --steps-per-epoch N   training steps per epoch (default ${FINALIZE_DEFAULTS.stepsPerEpoch}; ${REFERENCE_FINAL.stepsPerEpoch} under --protocol reference)
  --max-minutes M       stop cleanly, keeping the best weights, before M minutes (default: no limit)
  --protocol P          emonas or reference (default: the run's, from its training.json). emonas keeps
                        the run's batch, early stopping and learning-rate plateau; reference trains as
                        the authors' final training (method.md section 5.2): batch ${REFERENCE_FINAL.batchSize}, a constant
                        learning rate, no early stopping, the best validation epoch kept, on the run's
                        reference slabs. A protocol other than the run's changes the sampling,
                        validation and slab depth, never the run's preprocessing or split
  --json                print the summary (candidate, startedFrom, valDice, epochs, modelDir, ...) as JSON`;

/** A bar over the time limit when there is one (it ends training), else over the epochs. */
export function finalizeProgress(
  maxMinutes: number,
): Pick<FinalizeHooks, 'onPreparing' | 'onEvent'> & { finish(): void } {
  let bar: ProgressBar | undefined;
  let preparing: ProgressBar | undefined;
  let started = 0;
  let epochs = 0;
  let best = '';
  return {
    onPreparing(done, total) {
      preparing ??= new ProgressBar({ label: 'Preprocessing', total });
      if (done < total) preparing.update(done);
      else preparing.finish();
    },
    onEvent(e) {
      if (e.type === 'started') {
        started = Date.now();
        epochs = e.epochs;
        process.stderr.write(
          `Final training: ${e.params.toLocaleString('en-US')} parameters, ${e.trainCases} training and ${e.valCases} validation cases, up to ${e.epochs} epochs of ${e.stepsPerEpoch} steps${maxMinutes > 0 ? ` or ${maxMinutes} minutes` : ''}` +
            `${e.resumedEpochs ? `; continuing after epoch ${e.resumedEpochs} of the interrupted one` : ''}.\n`,
        );
        bar = new ProgressBar({
          label: 'Final training',
          total: maxMinutes > 0 ? Math.round(maxMinutes * 60) : epochs,
        });
      } else if (e.type === 'epoch') {
        if (e.best) {
          const dice = Object.entries(e.record.valDice)
            .map(([l, d]) => `${l} ${d.toFixed(3)}`)
            .join(' ');
          best = ` | best epoch ${e.record.epoch + 1}: Dice ${dice}`;
        }
        const done = maxMinutes > 0 ? Math.round((Date.now() - started) / 1000) : e.record.epoch + 1;
        bar?.update(done, `epoch ${e.record.epoch + 1}${best}`);
      }
    },
    finish() {
      bar?.finish(best.slice(3));
    },
  };
}

export function formatFinalize(s: FinalizeSummary): string {
  const dice = Object.entries(s.valDice)
    .map(([l, d]) => `${l} ${d.toFixed(3)}`)
    .join(', ');
  if (s.status === 'failed')
    return `The final training of ${s.candidate} failed: ${s.reason ?? 'no reason recorded'}\n`;
  const start =
    s.startedFrom === 'fresh'
      ? 'from a new random initialisation'
      : `from its search weights, sha256 ${s.startedFrom.sha256.slice(0, 12)}`;
  return (
    `Final model (candidate ${s.candidate} ${start}, ${s.params.toLocaleString('en-US')} parameters): validation Dice ${dice}` +
    `${s.meanValDice === null ? '' : ` (mean ${s.meanValDice.toFixed(3)})`}, best of ${s.epochsRun} epochs at epoch ${s.bestEpoch + 1}` +
    `${s.stoppedBy ? `, stopped by ${s.stoppedBy}` : ''}, ${formatSeconds(s.seconds)}.\nModel folder: ${s.modelDir}\n`
  );
}

export const finalizeCommand: Command = {
  name: 'finalize',
  summary: "train a search's chosen network for longer as the run's final model",
  usage,
  async run(argv) {
    const { values, positionals } = parse('finalize', argv, {
      candidate: { type: 'string' },
      fresh: { type: 'boolean' },
      epochs: { type: 'string' },
      'steps-per-epoch': { type: 'string' },
      'max-minutes': { type: 'string' },
      protocol: { type: 'string' },
      json: { type: 'boolean' },
    });
    const [runDir, ...rest] = positionals;
    if (runDir === undefined || rest.length > 0) {
      throw new EmonasError(
        'bad_request',
        'emonas finalize takes one run folder (see emonas finalize --help)',
      );
    }
    const epochs = numberOption('finalize', values.epochs, '--epochs');
    const stepsPerEpoch = numberOption('finalize', values['steps-per-epoch'], '--steps-per-epoch');
    const maxMinutes = numberOption('finalize', values['max-minutes'], '--max-minutes');
    const protocol = protocolOption('finalize', values.protocol);
    const progress = finalizeProgress(maxMinutes ?? 0);
    const summary = await withInterrupt(
      `the final training is cancelled; run emonas finalize ${runDir} again with the same options to continue it`,
      (signal) =>
        finalize(
          {
            runDir,
            ...(values.candidate !== undefined && { candidate: values.candidate }),
            ...(values.fresh && { fresh: true }),
            ...(epochs !== undefined && { epochs }),
            ...(stepsPerEpoch !== undefined && { stepsPerEpoch }),
            ...(maxMinutes !== undefined && { maxMinutes }),
            ...(protocol !== undefined && { protocol }),
          },
          { ...progress, signal },
        ),
    );
    progress.finish();
    if (values.json) printJson(summary);
    else process.stdout.write(formatFinalize(summary));
    return summary.status === 'completed' ? 0 : 1;
  },
};
