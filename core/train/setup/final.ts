// Runs in: the engine. The reference's final-training step: a network of a search trained again for longer
// with the run's own set-up (training.json: split, preprocessing, objective), into <run>/final, laid out as
// `emonas train --out` lays it out so `emonas predict --model` takes it. It starts from the candidate's best
// weights of the search (or, asked to, from a new random initialisation), and an interrupted final training
// continues from its own last epoch. Which network is the caller's choice (core/service/search-finalize.ts
// reads the run's journal for it).
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { EmonasError } from '../../base/errors.ts';
import { DEFAULT_PROTOCOL, protocolProblem, type TrainingProtocol } from '../../base/training-protocol.ts';
import { writeFileAtomicSync } from '../../io/files.ts';
import type { Genome } from '../../searchspace/genome.ts';
import { jobFingerprint, readCheckpoint, TRAINING_CHECKPOINT_FILE } from '../checkpoint.ts';
import { checkInitialWeights } from '../initial-weights.ts';
import type { InitialWeights, StopReason, TrainEvent, TrainJob, TrainSettings } from '../job.ts';
import { forkDetachedTrainingWorker, startTraining, type WorkerSpawner } from './launch.ts';
import { fillCache, preparedJob, SPLIT_FILE, type TrainingSetup } from './prepare.ts';
import { finalOverrides, protocolOf, protocolPatch, REFERENCE_FINAL, withProtocol } from './protocol.ts';
import { readTrainingSetup, trainingFilePath } from './training-file.ts';

/**
 * Protocol 'emonas': 1000 epochs with the run's own batch, early stopping and schedule, and a time limit
 * usually ends it sooner on a CPU. Protocol 'reference' trains as the reference does, 6000 epochs of 10
 * steps at batch 4 with a constant learning rate and no early stopping (method.md 5.2; protocol.ts).
 */
export const FINALIZE_DEFAULTS = { epochs: 1000, stepsPerEpoch: 50, maxMinutes: 0 } as const;

export const FINAL_DIR = 'final';

export interface FinalCandidate {
  id: string;
  genome: Genome;
  /** The candidate's seed in the search: the same weights initialisation and sampling stream. */
  seed: number;
  /** The candidate's model folder in the search (its best epoch's weights). */
  modelDir: string;
}

export interface FinalSettings {
  epochs?: number;
  stepsPerEpoch?: number;
  /** Stop cleanly, keeping the best weights, before this many minutes (0: no limit). */
  maxMinutes?: number;
  /** Start from a new random initialisation instead of the candidate's weights. */
  fresh?: boolean;
  /** How it trains; default: the protocol the run's candidates trained with (its training.json). */
  protocol?: TrainingProtocol;
}

/** The weights the final training started from: the candidate's (with their weights.bin's SHA-256), or new. */
export type StartedFrom = { candidate: string; sha256: string } | 'fresh';

export interface FinalizeHooks {
  onPreparing?: (done: number, total: number) => void;
  onEvent?: (event: TrainEvent) => void;
  signal?: AbortSignal;
  /** Starts the training worker: the host's launcher (Electron's utility process); a detached fork if absent. */
  spawnWorker?: WorkerSpawner;
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
  startedFrom: StartedFrom;
}

function positive(name: string, value: number | undefined, fallback: number, zeroAllowed = false): number {
  const v = value ?? fallback;
  if (!Number.isFinite(v) || v < 0 || (!zeroAllowed && (v === 0 || !Number.isInteger(v)))) {
    throw new EmonasError('bad_request', `${name} must be a positive whole number, not ${v}.`);
  }
  return v;
}

/**
 * The protocol the run in runDir trained its candidates with (its training.json). A run without one (the
 * formula problem's) is refused by the final training itself, with its own reason.
 */
export function runProtocol(runDir: string): TrainingProtocol {
  return existsSync(trainingFilePath(runDir))
    ? protocolOf(readTrainingSetup(runDir).settings)
    : DEFAULT_PROTOCOL;
}

/**
 * Checks the final training's settings before anything is read or trained; the protocol not asked for is
 * `runsProtocol`, and the epochs and steps not asked for are that protocol's.
 */
export function finalSettings(
  request: FinalSettings,
  runsProtocol: TrainingProtocol,
): Required<FinalSettings> {
  const protocol = request.protocol ?? runsProtocol;
  const problem = protocolProblem(protocol, 'The protocol');
  if (problem) throw new EmonasError('bad_request', problem);
  const defaults = protocol === 'reference' ? REFERENCE_FINAL : FINALIZE_DEFAULTS;
  return {
    epochs: positive('The number of epochs', request.epochs, defaults.epochs),
    stepsPerEpoch: positive('The steps per epoch', request.stepsPerEpoch, defaults.stepsPerEpoch),
    maxMinutes: positive('--max-minutes', request.maxMinutes, FINALIZE_DEFAULTS.maxMinutes, true),
    fresh: request.fresh ?? false,
    protocol,
  };
}

/**
 * The final training's settings: the run's, under the asked protocol (a protocol other than the run's
 * changes how patches are drawn, validated and predicted, and the slab depth, never the run's plan or
 * split), with its epochs, steps, time limit, and what that protocol's final training changes.
 */
export function finalTrainSettings(setup: TrainingSetup, request: Required<FinalSettings>): TrainSettings {
  const own = protocolOf(setup.settings);
  const settings = own === request.protocol ? setup.settings : withProtocol(setup.settings, request.protocol);
  const patch = own === request.protocol ? settings.patch : protocolPatch(request.protocol, settings.patch);
  return {
    ...settings,
    patch,
    ...finalOverrides(request.protocol),
    epochs: request.epochs,
    stepsPerEpoch: request.stepsPerEpoch,
    maxSeconds: request.maxMinutes === 0 ? null : request.maxMinutes * 60,
  };
}

const FRESH_HINT =
  'Run emonas finalize with --fresh to train the network from a new random initialisation instead.';

/** The candidate's weights, checked against the network the final training builds. */
async function candidateWeights(candidate: FinalCandidate, setup: TrainingSetup): Promise<InitialWeights> {
  try {
    return await checkInitialWeights(candidate.modelDir, candidate.genome, setup.task, candidate.id);
  } catch (err) {
    if (!(err instanceof EmonasError)) throw err;
    throw new EmonasError(
      err.code,
      `The final training starts from candidate ${candidate.id}'s weights, but ${err.message} ${FRESH_HINT}`,
      err.file === undefined ? {} : { file: err.file },
    );
  }
}

/** Whether `partial` holds the checkpoint of an interrupted final training of this same job. */
async function resumable(job: TrainJob): Promise<boolean> {
  const file = join(job.outDir, TRAINING_CHECKPOINT_FILE);
  return existsSync(file) && (await readCheckpoint(file, jobFingerprint(job))).found;
}

/** Trains the candidate into <run>/final, replacing the old final model only once the new one exists. */
export async function trainFinal(
  runDir: string,
  candidate: FinalCandidate,
  request: Required<FinalSettings>,
  hooks: FinalizeHooks = {},
): Promise<FinalizeSummary> {
  const setup = readTrainingSetup(runDir);
  const initial = request.fresh ? null : await candidateWeights(candidate, setup);
  await fillCache(setup, {
    onProgress: (stage, done, total) => {
      if (stage === 'preprocessing') hooks.onPreparing?.(done, total);
    },
  });
  if (hooks.signal?.aborted)
    throw new EmonasError('cancelled', 'Finalizing was cancelled before it started.');
  const finalDir = join(runDir, FINAL_DIR);
  const partial = join(runDir, `${FINAL_DIR}.partial`);
  const prepare = (): TrainJob => ({
    ...preparedJob(setup, candidate.genome, candidate.seed, partial, finalTrainSettings(setup, request)),
    ...(initial && { initialWeights: initial }),
  });
  let job = prepare();
  // An interrupted final training continues from its own last epoch (its weights, Adam's state, its
  // schedule), not from the candidate's weights again; any other folder left there is cleared.
  const resume = await resumable(job);
  if (!resume) {
    rmSync(partial, { recursive: true, force: true });
    mkdirSync(partial, { recursive: true });
    job = prepare();
  }
  const run = startTraining(job, setup.split, {
    ...(hooks.onEvent && { onEvent: hooks.onEvent }),
    spawnWorker: hooks.spawnWorker ?? forkDetachedTrainingWorker,
    hardLimit: true,
    resume,
  });
  const abort = (): void => run.cancel();
  hooks.signal?.addEventListener('abort', abort, { once: true });
  const result = await run.result;
  hooks.signal?.removeEventListener('abort', abort);
  if (result.status === 'failed' && result.reason?.code === 'cancelled' && !result.timedOut) {
    if (existsSync(join(partial, TRAINING_CHECKPOINT_FILE))) {
      throw new EmonasError(
        'cancelled',
        'Finalizing was stopped; run emonas finalize again with the same options to continue from its last ' +
          'completed epoch.',
      );
    }
    rmSync(partial, { recursive: true, force: true });
    throw new EmonasError(
      'cancelled',
      'Finalizing was stopped; run emonas finalize again to train the final model.',
    );
  }
  // The worker refused the candidate's weights before the first step (a tensor of another shape, or the
  // files changed since they were checked; its reason names the file): that is no final model, and the
  // old one stays.
  const file = result.reason?.file;
  if (initial && result.status === 'failed' && file !== undefined && dirname(file) === initial.modelDir) {
    rmSync(partial, { recursive: true, force: true });
    throw new EmonasError(
      result.reason?.code ?? 'bad_request',
      `The final training could not start from candidate ${candidate.id}'s weights: ${result.reason?.message} ${FRESH_HINT}`,
      { file },
    );
  }
  const dice = Object.values(result.valDice);
  const summary: FinalizeSummary = {
    runDir,
    candidate: candidate.id,
    genome: candidate.genome,
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
    startedFrom: initial ? { candidate: candidate.id, sha256: initial.sha256 } : 'fresh',
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
  writeFileAtomicSync(
    resultPath,
    JSON.stringify(
      {
        ...written,
        outDir: finalDir,
        modelDir: finalDir,
        split: { ...split, file: join(finalDir, SPLIT_FILE) },
        startedFrom: summary.startedFrom,
      },
      null,
      2,
    ) + '\n',
  );
  return summary;
}

/** What finalize reported when it stored the run's final model, or null when there is none. */
export function readFinalSummary(runDir: string): FinalizeSummary | null {
  const path = join(runDir, FINAL_DIR, 'finalize.json');
  if (!existsSync(path)) return null;
  try {
    const { settings: _settings, ...summary } = JSON.parse(readFileSync(path, 'utf8')) as FinalizeSummary & {
      settings: unknown;
    };
    // A final model from before finalize could start from the candidate's weights started fresh.
    return { ...summary, startedFrom: summary.startedFrom ?? 'fresh', modelDir: join(runDir, FINAL_DIR) };
  } catch {
    return null;
  }
}

/** Whether the run has a final model. */
export function hasFinalModel(runDir: string): boolean {
  return existsSync(join(runDir, FINAL_DIR, 'result.json'));
}
