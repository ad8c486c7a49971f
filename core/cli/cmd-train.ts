// Runs in: the emonas command's process. `emonas train`: trains one candidate network on a dataset in a
// worker process, with the preprocessing plan shown first and a progress bar while it runs.
import { EmonasError } from '../base/errors.ts';
import type { describePlan, TrainOneHooks, TrainRequest, TrainResponse } from '../service/train.ts';
import { TRAIN_DEFAULTS } from '../service/train-defaults.ts';
import {
  numberOption,
  parse,
  printJson,
  protocolHelp,
  protocolOption,
  requireOption,
  tripleOption,
  type Command,
} from './command.ts';
import { formatSeconds, ProgressBar } from './progress.ts';

const usage = `Usage: emonas train --dataset <folder> --genome <genome> --out <dir> [options]
       emonas train --resume --out <dir> [--json]

Trains one candidate network on a dataset folder (Decathlon task, ACDC or PROMISE12 as distributed) and
writes a model folder that emonas predict can use: the best epoch's weights (TensorFlow.js format), the
genome, the preprocessing plan and label table (emonas-model.json), the split (split.json), the per-epoch
log (training-log.csv) and the result (result.json). The candidate trains in a worker process of its own.
After every epoch it saves a checkpoint (training-checkpoint.bin, removed when training ends); if training
is interrupted (Ctrl-C, a killed worker, a reboot), --resume continues it after its last completed epoch
with the settings, weights, optimizer and sampling state recorded there.

<genome> is a built-in name (prostate, hippocampus, cardiac, small), a JSON file, or inline JSON such as
'{"learningRate":4e-4,"filters":8,"cells":5,"inputs":[0,1,1],"ops":["conv3d_3x3x3","convP3d_3x3","convP3d_3x3","conv2d_5x5"]}'.

Options:
  --epochs N           epoch budget, also C in f1 (default ${TRAIN_DEFAULTS.epochs})
  --steps N            training steps per epoch (default ${TRAIN_DEFAULTS.stepsPerEpoch})
  --batch N            patches per step (default ${TRAIN_DEFAULTS.batchSize})
  --patch X,Y,Z        training patch and inference window (default: the plan's, e.g. 48,64,48 for
                       hippocampus, which covers every case)
  --val-fraction F     patients used for validation (default ${TRAIN_DEFAULTS.valFraction})
  --test-fraction F    patients held out from training and validation (default ${TRAIN_DEFAULTS.testFraction})
  --seed S             seeds the split, the weights and the sampling (default ${TRAIN_DEFAULTS.seed})
  --split-seed S       seeds the split alone (default: --seed), so trainings with other --seed values
                       share one split: the same network's spread over initialisations
  --max-minutes M      stop cleanly, keeping the best weights, before M minutes of training have passed
                       (default ${TRAIN_DEFAULTS.maxMinutes}; 0 for no limit)
${protocolHelp(23)}
  --cache <dir>        where preprocessed cases are cached (default: EMONAS_CACHE_DIR or ~/.cache/emonas)
  --allow-links        follow symbolic links that lead out of the dataset folder (refused otherwise)
  --resume             continue the interrupted training in --out (no other training options)
  --json               print the result as one JSON object (f1, f2, params, bestEpoch, valDice, outDir, ...)

Exit status: 0 when the candidate trained, 1 when it failed (the reason is printed and in result.json).`;

export const trainCommand: Command = {
  name: 'train',
  summary: 'train one candidate network on a dataset and save it for prediction',
  usage,
  async run(argv) {
    const { values, positionals } = parse(
      'train',
      argv,
      {
        dataset: { type: 'string' },
        genome: { type: 'string' },
        out: { type: 'string' },
        epochs: { type: 'string' },
        steps: { type: 'string' },
        batch: { type: 'string' },
        patch: { type: 'string' },
        'val-fraction': { type: 'string' },
        'test-fraction': { type: 'string' },
        seed: { type: 'string' },
        'split-seed': { type: 'string' },
        'max-minutes': { type: 'string' },
        cache: { type: 'string' },
        protocol: { type: 'string' },
        'allow-links': { type: 'boolean' },
        resume: { type: 'boolean' },
        json: { type: 'boolean' },
      },
      false,
    );
    if (positionals.length > 0)
      throw new EmonasError('bad_request', 'emonas train takes no positional arguments');
    // Loaded here, not at the top: `emonas --help` and the other commands need none of training.
    const training = await import('../service/train.ts');
    const { hasCheckpoint, resumeTraining, trainCandidate } = training;
    const finish = (result: TrainResponse, progress: { finish: () => void }): number =>
      report(result, progress, values.json === true, hasCheckpoint(result.modelDir));
    if (values.resume) {
      const others = Object.keys(values).filter((k) => !['resume', 'out', 'json'].includes(k));
      if (others.length > 0) {
        throw new EmonasError(
          'bad_request',
          `emonas train --resume continues with the settings recorded in --out; leave out ${others.map((k) => `--${k}`).join(', ')}`,
        );
      }
      const progress = progressDisplay(training.describePlan);
      const out = requireOption('train', values.out, '--out');
      return finish(await resumeTraining({ out }, progress.hooks), progress);
    }
    const request: TrainRequest = {
      dataset: requireOption('train', values.dataset, '--dataset'),
      genome: requireOption('train', values.genome, '--genome'),
      out: requireOption('train', values.out, '--out'),
    };
    const numbers: [keyof TrainRequest, string][] = [
      ['epochs', 'epochs'],
      ['stepsPerEpoch', 'steps'],
      ['batchSize', 'batch'],
      ['valFraction', 'val-fraction'],
      ['testFraction', 'test-fraction'],
      ['seed', 'seed'],
      ['splitSeed', 'split-seed'],
      ['maxMinutes', 'max-minutes'],
    ];
    for (const [key, flag] of numbers) {
      const n = numberOption('train', values[flag as keyof typeof values] as string | undefined, `--${flag}`);
      if (n !== undefined) (request as unknown as Record<string, number>)[key] = n;
    }
    if (values.patch !== undefined) request.patch = tripleOption('train', values.patch, '--patch');
    if (values.cache !== undefined) request.cacheDir = values.cache;
    const protocol = protocolOption('train', values.protocol);
    if (protocol !== undefined) request.protocol = protocol;
    if (values['allow-links'] === true) request.allowLinks = true;

    const progress = progressDisplay(training.describePlan);
    return finish(await trainCandidate(request, progress.hooks), progress);
  },
};

function report(
  result: TrainResponse,
  progress: { finish: () => void },
  json: boolean,
  resumable: boolean,
): number {
  progress.finish();
  if (json) printJson(result);
  else process.stdout.write(formatResult(result));
  if (result.status === 'completed') return 0;
  process.stderr.write(`emonas: the candidate failed: ${result.reason?.message ?? 'no reason recorded'}\n`);
  if (resumable) {
    process.stderr.write(`emonas: continue it with: emonas train --resume --out ${result.modelDir}\n`);
  }
  return 1;
}

/**
 * Bars for reading, preparing and training. The training bar is sized after the first epoch, from how
 * many more epochs fit the time budget (the worker's ETA), so its ETA is honest when the budget, not the
 * epoch count, ends training.
 */
function progressDisplay(describe: typeof describePlan): {
  hooks: TrainOneHooks;
  finish: () => void;
} {
  let reading: ProgressBar | undefined;
  let preparing: ProgressBar | undefined;
  let training: ProgressBar | undefined;
  let steps = 1;
  let offset = 0;
  /** The first epoch of this run (after a resume, the one after the checkpoint's). */
  let firstEpoch = 0;
  let lastEpoch = '';
  const hooks: TrainOneHooks = {
    onInspect(done, total) {
      reading ??= new ProgressBar({ label: 'Reading dataset', total });
      if (done < total) reading.update(done);
      else reading.finish();
    },
    onPlan(plan, split) {
      const lines = [
        ...describe(plan),
        `Split by patient (seed ${split.seed}): ${split.train.length} training, ${split.val.length} validation, ${split.test.length} held-out test cases.`,
      ];
      process.stderr.write(lines.join('\n') + '\n');
    },
    onBackend(choice) {
      const skipped = choice.backends.filter((b) => !b.available && b.name !== 'wasm').map((b) => b.name);
      process.stderr.write(
        `Training backend: ${choice.backend}${skipped.length ? ` (unavailable: ${skipped.join(', ')}; see emonas doctor)` : ''}\n`,
      );
    },
    onEvent(e) {
      if (e.type === 'preparing') {
        preparing ??= new ProgressBar({ label: 'Preparing cases', total: e.total });
        if (e.done < e.total) preparing.update(e.done);
        else preparing.finish(`${e.fromCache} from the cache`);
      } else if (e.type === 'started') {
        steps = e.stepsPerEpoch;
        firstEpoch = e.resumedEpochs ?? 0;
        offset = firstEpoch * steps;
        process.stderr.write(
          `Network: ${e.params.toLocaleString('en-US')} parameters; ${e.trainCases} training and ${e.valCases} validation cases; up to ${e.epochs} epochs of ${e.stepsPerEpoch} steps.\n`,
        );
        if (e.checkpointIgnored) process.stderr.write(`Not resuming: ${e.checkpointIgnored}\n`);
        if (firstEpoch > 0) {
          process.stderr.write(`Resuming after epoch ${firstEpoch}, from its checkpoint.\n`);
        }
        training = new ProgressBar({ label: `Epoch ${firstEpoch + 1}`, total: steps });
      } else if (e.type === 'step') {
        training?.update(
          e.epoch * steps + e.step + 1 - offset,
          `epoch ${e.epoch + 1} loss ${e.loss.toFixed(3)}${lastEpoch}`,
        );
      } else if (e.type === 'epoch') {
        const dice = Object.entries(e.record.valDice)
          .map(([name, d]) => `${name} ${d.toFixed(3)}`)
          .join(', ');
        lastEpoch = `  val Dice ${dice}${e.best ? ' (best)' : ''}`;
        if (e.record.epoch === firstEpoch) {
          training?.finish(lastEpoch.trim());
          const more = Math.round(e.etaSeconds / Math.max(e.record.seconds, 1e-3));
          offset = (firstEpoch + 1) * steps;
          training = more > 0 ? new ProgressBar({ label: 'Training', total: more * steps }) : undefined;
        } else {
          training?.update((e.record.epoch + 1) * steps - offset, `epoch ${e.record.epoch + 1}${lastEpoch}`);
        }
      }
    },
  };
  return { hooks, finish: () => training?.finish(lastEpoch.trim()) };
}

export function formatResult(r: TrainResponse): string {
  const dice = Object.entries(r.valDice)
    .map(([name, d]) => `${name} ${d.toFixed(4)}`)
    .join(', ');
  const lines = [
    `Status:      ${r.status}${r.reason ? ` (${r.reason.message})` : ''}`,
    `f1, f2:      ${r.f1.toFixed(4)}, ${r.f2.toFixed(4)} (ln of ${r.params.toLocaleString('en-US')} parameters)`,
    `Best epoch:  ${r.bestEpoch + 1} of ${r.epochsRun} run${r.stoppedBy ? ` (stopped by ${r.stoppedBy})` : ''}; validation Dice ${dice || 'none'}`,
    `Backend:     ${r.backend}, ${formatSeconds(r.seconds)}`,
    `Model:       ${r.modelDir} (split in ${r.split.file})`,
  ];
  return lines.join('\n') + '\n';
}
