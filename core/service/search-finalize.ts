// Runs in: the engine. The reference's final-training step: the chosen network of a search (by default
// the front's most accurate) is trained again for longer, on the run's own split and preprocessing, into
// <run>/final, laid out as `emonas train --out` lays it out so `emonas predict --model` takes it.
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { EmonasError } from '../base/errors.ts';
import { readRunManifest, writeFileAtomic } from '../runs/run-folder.ts';
import type { Genome } from '../searchspace/genome.ts';
import type { StopReason, TrainEvent } from '../train/job.ts';
import { archiveFromJournal, front } from './search.ts';
import { fillCache, readTrainingSetup, startTraining, trainingJob } from './search-training.ts';

export interface FinalizeRequest {
  runDir: string;
  /** A completed candidate of the run; default: the front's most accurate (lowest f1). */
  candidate?: string;
  /** Epochs of the final training (default FINALIZE_DEFAULTS.epochs). */
  epochs?: number;
  stepsPerEpoch?: number;
  /** Stop cleanly, keeping the best weights, before this many minutes (0: no limit). */
  maxMinutes?: number;
}

/** The reference trains the final network for 1000 epochs; a time limit usually ends it sooner on a CPU. */
export const FINALIZE_DEFAULTS = { epochs: 1000, stepsPerEpoch: 50, maxMinutes: 0 } as const;

export interface FinalizeHooks {
  onPreparing?: (done: number, total: number) => void;
  onEvent?: (event: TrainEvent) => void;
  signal?: AbortSignal;
}

export interface FinalizeSummary {
  runDir: string;
  candidate: string;
  genome: Genome;
  params: number;
  /** The folder `emonas predict --model` takes: <run>/final. */
  modelDir: string;
  status: 'completed' | 'failed';
  reason: string | null;
  /** Validation Dice per label at the best epoch. */
  valDice: Record<string, number>;
  meanValDice: number | null;
  epochsRun: number;
  bestEpoch: number;
  stoppedBy: StopReason | null;
  seconds: number;
}

export const FINAL_DIR = 'final';

function positive(name: string, value: number | undefined, fallback: number, zeroAllowed = false): number {
  const v = value ?? fallback;
  if (!Number.isFinite(v) || v < 0 || (!zeroAllowed && (v === 0 || !Number.isInteger(v)))) {
    throw new EmonasError('bad_request', `${name} must be a positive whole number, not ${v}.`);
  }
  return v;
}

export async function finalize(
  request: FinalizeRequest,
  hooks: FinalizeHooks = {},
): Promise<FinalizeSummary> {
  const { runDir } = request;
  const manifest = readRunManifest(runDir);
  if (manifest.problem.kind !== 'dataset') {
    throw new EmonasError(
      'bad_request',
      `The run in ${runDir} searched the formula problem; only a search over a dataset has a network to finalize.`,
    );
  }
  const epochs = positive('The number of epochs', request.epochs, FINALIZE_DEFAULTS.epochs);
  const stepsPerEpoch = positive(
    'The steps per epoch',
    request.stepsPerEpoch,
    FINALIZE_DEFAULTS.stepsPerEpoch,
  );
  const maxMinutes = positive('--max-minutes', request.maxMinutes, FINALIZE_DEFAULTS.maxMinutes, true);
  const entry = chooseCandidate(runDir, request.candidate);
  const setup = readTrainingSetup(runDir);
  await fillCache(setup, {
    onProgress: (stage, done, total) => {
      if (stage === 'preprocessing') hooks.onPreparing?.(done, total);
    },
  });
  if (hooks.signal?.aborted)
    throw new EmonasError('cancelled', 'Finalizing was cancelled before it started.');
  // Trained beside the old final model, which is replaced only once the new one exists.
  const finalDir = join(runDir, FINAL_DIR);
  const partial = join(runDir, `${FINAL_DIR}.partial`);
  rmSync(partial, { recursive: true, force: true });
  mkdirSync(partial, { recursive: true });
  const job = trainingJob(setup, entry.genome, entry.seed, partial, {
    epochs,
    stepsPerEpoch,
    maxSeconds: maxMinutes === 0 ? null : maxMinutes * 60,
  });
  const run = startTraining(setup, job, hooks.onEvent);
  const abort = (): void => run.cancel();
  hooks.signal?.addEventListener('abort', abort, { once: true });
  const result = await run.result;
  hooks.signal?.removeEventListener('abort', abort);
  if (result.status === 'failed' && result.reason?.code === 'cancelled' && !result.timedOut) {
    rmSync(partial, { recursive: true, force: true });
    throw new EmonasError(
      'cancelled',
      'Finalizing was stopped; run emonas finalize again to train the final model.',
    );
  }
  const dice = Object.values(result.valDice);
  const summary: FinalizeSummary = {
    runDir,
    candidate: entry.id,
    genome: entry.genome,
    params: result.params,
    modelDir: finalDir,
    status: result.status,
    reason: result.reason?.message ?? null,
    valDice: result.valDice,
    meanValDice: dice.length > 0 ? dice.reduce((a, b) => a + b, 0) / dice.length : null,
    epochsRun: result.epochsRun,
    bestEpoch: result.bestEpoch,
    stoppedBy: result.stoppedBy ?? null,
    seconds: result.seconds,
  };
  writeFileSync(
    join(partial, 'finalize.json'),
    JSON.stringify({ ...summary, settings: job.settings }, null, 2) + '\n',
  );
  rmSync(finalDir, { recursive: true, force: true });
  renameSync(partial, finalDir);
  // result.json names the folder it was written in, which is now final/.
  const resultPath = join(finalDir, 'result.json');
  const written = JSON.parse(readFileSync(resultPath, 'utf8')) as Record<string, unknown>;
  const split = written.split as Record<string, unknown>;
  writeFileAtomic(
    resultPath,
    JSON.stringify(
      {
        ...written,
        outDir: finalDir,
        modelDir: finalDir,
        split: { ...split, file: join(finalDir, 'split.json') },
      },
      null,
      2,
    ) + '\n',
  );
  return summary;
}

/** The candidate to finalize: the one asked for, which must have completed, or the front's most accurate. */
function chooseCandidate(
  runDir: string,
  id: string | undefined,
): { id: string; genome: Genome; seed: number } {
  if (id === undefined) {
    const best = front({ runDir })[0];
    if (!best) {
      throw new EmonasError(
        'not_found',
        `The run in ${runDir} has no completed candidate yet; resume the search first.`,
      );
    }
    const spec = archiveFromJournal(runDir).find((e) => e.spec.id === best.id)?.spec;
    return { id: best.id, genome: best.genome, seed: spec?.seed ?? 0 };
  }
  const entry = archiveFromJournal(runDir).find((e) => e.spec.id === id);
  if (!entry) {
    throw new EmonasError(
      'not_found',
      `The run in ${runDir} has no evaluated candidate ${id}; see emonas front ${runDir}.`,
    );
  }
  if (entry.failed) {
    throw new EmonasError(
      'bad_request',
      `Candidate ${id} failed during the search (${entry.outcome.status === 'failed' ? entry.outcome.reason : 'no result'}); choose a candidate that completed.`,
    );
  }
  return { id, genome: entry.spec.genome, seed: entry.spec.seed };
}

/** What finalize reported when it stored the run's final model, or null when there is none. */
export function readFinalSummary(runDir: string): FinalizeSummary | null {
  const path = join(runDir, FINAL_DIR, 'finalize.json');
  if (!existsSync(path)) return null;
  try {
    const { settings: _settings, ...summary } = JSON.parse(readFileSync(path, 'utf8')) as FinalizeSummary & {
      settings: unknown;
    };
    return { ...summary, modelDir: join(runDir, FINAL_DIR) };
  } catch {
    return null;
  }
}

/** Whether the run has a final model. */
export function hasFinalModel(runDir: string): boolean {
  return existsSync(join(runDir, FINAL_DIR, 'result.json'));
}
