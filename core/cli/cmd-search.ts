// Runs in: the emonas command's process. `emonas search`: a multi-objective architecture search over a
// dataset folder in a new run folder, with its progress display (shared with resume and demo) and a
// Ctrl-C that stops cleanly so `emonas resume` continues the run.
import { readFileSync } from 'node:fs';
import { EmonasError } from '../base/errors.ts';
import { plannedForConfig } from '../service/runs.ts';
import { startSearch, type SearchProgress, type SearchSummary, type StudyEvent } from '../service/search.ts';
import { SEARCH_TRAINING_DEFAULTS } from '../service/train-defaults.ts';
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
import { ProgressBar } from './progress.ts';

const usage = `Usage: emonas search --dataset <folder> --out <run folder> [options]

Searches for small, accurate segmentation networks on a dataset folder (Decathlon task, ACDC or PROMISE12
as distributed) with SaMEA, the surrogate-assisted multi-objective search of EMONAS-Net (or NSGA-II or
random search). The dataset is read, split by patient and preprocessed once; every candidate is then
trained in a worker process of its own, into <run folder>/candidates/<id> (a model folder emonas predict
takes). Everything is journaled: Ctrl-C (or a crash) stops the run, and emonas resume <run folder>
continues it exactly.

Options:
  --preset quick|paper    quick: 6 subproblems, 4 generations, 6 epochs; paper (default): the reference,
                          10 subproblems, 40 generations, 120 epochs
  --algorithm A           samea (default), nsga2 or random
  --config <file.json>    more search settings, e.g. {"population": 8, "surrogate": {"trees": 50}}
  --seed S                the search's seed
  --workers N             candidates trained at once (default 1; each uses every core it can). With N > 1,
                          SaMEA breeds a generation's children from the population at its start, trains
                          them together, applies their replacements in child order and refits its surrogate
                          once per generation instead of per child; choose otherwise with "evaluationOrder"
                          ("sequential") or "surrogate": {"refit": "per-child"} in --config (per-child
                          trains a screened generation's children one at a time). run.json states the
                          choice under "evaluation".
  --epochs N              epochs per candidate, C (default: the preset's)
  --steps-per-epoch N     training steps per epoch (default ${SEARCH_TRAINING_DEFAULTS.stepsPerEpoch})
  --batch N               patches per step (default ${SEARCH_TRAINING_DEFAULTS.batchSize})
  --patch X,Y,Z           training patch (default: the plan's; each side a multiple of 16)
  --max-minutes M         time limit per candidate, keeping its best epoch (default: none)
  --max-params N          a bred or drawn network with more parameters is repaired to fit (default: none)
  --val-fraction F        patients used for validation (default ${SEARCH_TRAINING_DEFAULTS.valFraction})
  --test-fraction F       patients held out (default ${SEARCH_TRAINING_DEFAULTS.testFraction})
  --split-seed S          seeds the patient split, fixed for the whole run (default 0)
${protocolHelp(26, ['(or "protocol" in --config); run.json and training.json record it'])}
  --cache <dir>           where preprocessed cases are cached (default: EMONAS_CACHE_DIR or ~/.cache/emonas)
  --allow-links           follow symbolic links that lead out of the dataset folder (refused otherwise)
  --executor local|slurm  where candidates train (default local)
  --slurm-config <file>   with --executor slurm: partition, account, time limit, GPUs, ...
  --json                  print the summary (status, evaluated, front) as JSON`;

function readConfigFile(path: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new EmonasError(
      'bad_request',
      `The search configuration ${path} could not be read as JSON: ${(err as Error).message}`,
      { file: path },
    );
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new EmonasError('bad_request', `${path} must hold a JSON object of search settings.`, {
      file: path,
    });
  }
  return value as Record<string, unknown>;
}

export const searchCommand: Command = {
  name: 'search',
  summary: 'search for small, accurate networks on a dataset (resumable; see emonas resume)',
  usage,
  async run(argv) {
    const { values, positionals } = parse(
      'search',
      argv,
      {
        dataset: { type: 'string' },
        out: { type: 'string' },
        preset: { type: 'string' },
        algorithm: { type: 'string' },
        config: { type: 'string' },
        seed: { type: 'string' },
        protocol: { type: 'string' },
        workers: { type: 'string' },
        epochs: { type: 'string' },
        'steps-per-epoch': { type: 'string' },
        batch: { type: 'string' },
        patch: { type: 'string' },
        'max-minutes': { type: 'string' },
        'max-params': { type: 'string' },
        'val-fraction': { type: 'string' },
        'test-fraction': { type: 'string' },
        'split-seed': { type: 'string' },
        cache: { type: 'string' },
        'allow-links': { type: 'boolean' },
        executor: { type: 'string' },
        'slurm-config': { type: 'string' },
        json: { type: 'boolean' },
      },
      false,
    );
    if (positionals.length > 0)
      throw new EmonasError('bad_request', 'emonas search takes no positional arguments');
    const config: Record<string, unknown> = values.config ? readConfigFile(values.config) : {};
    if (values.preset !== undefined) config.preset = values.preset;
    if (values.algorithm !== undefined) config.algorithm = values.algorithm;
    const seed = numberOption('search', values.seed, '--seed');
    if (seed !== undefined) config.seed = seed;
    const protocol = protocolOption('search', values.protocol);
    if (protocol !== undefined) config.protocol = protocol;
    const problem: Record<string, unknown> = {
      kind: 'dataset',
      dataset: requireOption('search', values.dataset, '--dataset'),
    };
    const settings: [string, string][] = [
      ['epochs', 'epochs'],
      ['stepsPerEpoch', 'steps-per-epoch'],
      ['batchSize', 'batch'],
      ['maxMinutes', 'max-minutes'],
      ['maxParams', 'max-params'],
      ['valFraction', 'val-fraction'],
      ['testFraction', 'test-fraction'],
      ['splitSeed', 'split-seed'],
    ];
    for (const [key, flag] of settings) {
      const n = numberOption(
        'search',
        values[flag as keyof typeof values] as string | undefined,
        `--${flag}`,
      );
      if (n !== undefined) problem[key] = n;
    }
    if (values.patch !== undefined) problem.patch = tripleOption('search', values.patch, '--patch');
    if (values.cache !== undefined) problem.cacheDir = values.cache;
    if (values['allow-links'] === true) problem.allowLinks = true;
    const executor = values.executor ?? 'local';
    if (executor !== 'local' && executor !== 'slurm') {
      throw new EmonasError(
        'bad_request',
        `emonas search: --executor takes local or slurm, not "${executor}"`,
      );
    }
    if (executor === 'slurm' && values['slurm-config'] === undefined) {
      throw new EmonasError('bad_request', 'emonas search: --executor slurm needs --slurm-config <file>');
    }
    const out = requireOption('search', values.out, '--out');
    const workers = numberOption('search', values.workers, '--workers');
    const display = new SearchDisplay(plannedForConfig(config));
    const summary = await withInterrupt(resumeHint(out), (signal) =>
      startSearch(
        {
          runDir: out,
          config,
          problem,
          ...(workers !== undefined && { workers }),
          executor,
          ...(values['slurm-config'] !== undefined && { slurmConfig: values['slurm-config'] }),
        },
        { signal, onEvent: display.onEvent, onProgress: display.onProgress },
      ),
    );
    display.finish();
    printSummary(summary, Boolean(values.json));
    return summary.status === 'finished' ? 0 : 130;
  },
};

/** The stop message of a search in runDir. */
export function resumeHint(runDir: string): string {
  return `the candidates in training are cancelled and will be trained again by emonas resume ${runDir}`;
}

/** Runs a job with Ctrl-C (and SIGTERM) as a clean stop; a second Ctrl-C leaves at once. */
export async function withInterrupt<T>(
  message: string,
  run: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  const controller = new AbortController();
  const stop = (): void => {
    if (controller.signal.aborted) process.exit(130);
    process.stderr.write(`\nStopping: ${message} (Ctrl-C again to leave at once).\n`);
    controller.abort();
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  try {
    return await run(controller.signal);
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  }
}

export function printSummary(summary: SearchSummary, json: boolean): void {
  if (json) {
    printJson(summary);
    return;
  }
  const how =
    summary.status === 'finished' ? 'finished' : `stopped; continue it with emonas resume ${summary.runDir}`;
  process.stdout.write(
    `Search ${how}: ${summary.evaluated} candidates evaluated, ${summary.front.length} on the Pareto front (see emonas front ${summary.runDir}).\n`,
  );
  for (const note of summary.notes) process.stdout.write(`Note: ${note}\n`);
}

/**
 * One line for the whole search: phase and generation, candidates evaluated of those planned, the
 * candidate in training with its epoch, the front's size and hypervolume, and the ETA.
 */
export class SearchDisplay {
  private bar: ProgressBar | undefined;
  private preparing: { stage: string; bar: ProgressBar } | undefined;
  private evaluated = 0;
  private generation = 0;
  private phase = 'initialisation';
  private frontSize = 0;
  private hypervolume: number | null = null;
  /** Candidates submitted whose training has not reported yet (queued, or their worker starting). */
  private readonly waiting = new Set<string>();
  private readonly training = new Map<string, string>();
  private failed = 0;
  /** The longest a surrogate answer kept the engine busy, in milliseconds. */
  surrogateMs = 0;

  /** The budget's clock starts with the search, before its data is read: the bar appears only after. */
  private readonly startedAt = Date.now();

  constructor(
    private readonly planned: number,
    /** The search's time budget, when it has one: its ETA is never later. */
    private readonly budgetSeconds?: number,
  ) {}

  readonly onEvent = (event: StudyEvent): void => {
    if (event.type === 'run.resumed') {
      process.stderr.write(`Resuming: replaying ${event.replayedDecisions} journaled decisions.\n`);
      for (const note of event.notes) process.stderr.write(`Note: ${note}\n`);
    } else if (event.type === 'candidate.started') {
      this.generation = event.generation;
      this.waiting.add(event.id);
    } else if (event.type === 'candidate.completed') {
      this.evaluated++;
      this.waiting.delete(event.id);
      this.training.delete(event.id);
      if (event.outcome.status === 'failed') {
        this.failed++;
        this.line(`Candidate ${event.id} failed (${event.outcome.code}): ${event.outcome.reason}`);
      }
    } else if (event.type === 'generation.completed') {
      const r = event.record;
      if (typeof r.evaluated === 'number') this.evaluated = r.evaluated;
      if (typeof r.phase === 'string') this.phase = r.phase;
      if (typeof r.frontSize === 'number') this.frontSize = r.frontSize;
      if (typeof r.hypervolume === 'number') this.hypervolume = r.hypervolume;
      if (typeof r.generation === 'number') {
        // Present only when the search has a size bound: its candidates the bound changed.
        const repaired =
          typeof r.repaired === 'number' && r.repaired > 0
            ? ` (${r.repaired} brought within the size bound)`
            : '';
        this.line(
          `Generation ${r.generation} done: ${this.evaluated} evaluated${repaired}, front of ${this.frontSize}, hypervolume ${this.hypervolume?.toFixed(4) ?? '-'}.`,
        );
      }
    }
    this.draw();
  };

  readonly onProgress = (progress: SearchProgress): void => {
    if (progress.type === 'preparing') {
      if (this.preparing?.stage !== progress.stage) {
        const label = progress.stage === 'reading' ? 'Reading dataset' : 'Preprocessing';
        this.preparing = { stage: progress.stage, bar: new ProgressBar({ label, total: progress.total }) };
      }
      if (progress.done < progress.total) this.preparing.bar.update(progress.done);
      else this.preparing.bar.finish();
      return;
    }
    if (progress.type === 'surrogate') {
      this.surrogateMs = Math.max(this.surrogateMs, progress.milliseconds);
      return;
    }
    const e = progress.event;
    this.waiting.delete(progress.id);
    if (e.type === 'started') this.training.set(progress.id, `epoch 1/${e.epochs}`);
    else if (e.type === 'step') {
      const current = this.training.get(progress.id) ?? '';
      const total = /\/(\d+)/.exec(current)?.[1] ?? '?';
      this.training.set(progress.id, `epoch ${e.epoch + 1}/${total} step ${e.step + 1}/${e.steps}`);
    }
    this.draw();
  };

  finish(): void {
    this.bar?.finish(this.detail());
  }

  private detail(): string {
    const running = [
      ...[...this.training].map(([id, where]) => `${id} ${where}`),
      ...(this.waiting.size > 0 ? [`${this.waiting.size} waiting`] : []),
    ].join(', ');
    const hv = this.hypervolume === null ? '-' : this.hypervolume.toFixed(3);
    return `${this.phase} g${this.generation} | front ${this.frontSize} HV ${hv}${this.failed ? ` | ${this.failed} failed` : ''}${running ? ` | ${running}` : ''}`;
  }

  private draw(): void {
    this.bar ??= new ProgressBar({
      label: 'Searching',
      total: Math.max(1, this.planned),
      ...(this.budgetSeconds !== undefined && {
        budgetSeconds: this.budgetSeconds,
        startedAt: this.startedAt,
      }),
    });
    this.bar.update(Math.min(this.evaluated, this.planned - 1), this.detail());
  }

  private line(text: string): void {
    process.stderr.write(`${process.stderr.isTTY ? '\r\x1b[2K' : ''}${text}\n`);
  }
}
