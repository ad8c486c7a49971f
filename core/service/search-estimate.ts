// Runs in: the engine. The search wizard's estimate of time and disk, from a short measured probe: a
// mid-sized network (16 filters, 7 cells) trains three steps on the chosen patch in a training worker, the
// way every candidate will; the first step (graph set-up) is left out and the next two are timed. The rest
// is arithmetic on the search's plan (core/search/estimate.ts), stated in the estimate's notes.
import { mkdtemp, rm } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { EmonasError } from '../base/errors.ts';
import type { SearchEstimate } from '../api/runs.ts';
import type { Shape3 } from '../datasets/pipeline/grid.ts';
import { countParams } from '../nn/param-count.ts';
import { resolveSearchConfig } from '../search/config.ts';
import { estimateCost } from '../search/estimate.ts';
import type { Genome } from '../searchspace/genome.ts';
import type { WorkerHandle } from '../train/protocol.ts';
import { trainInWorker } from '../train/worker-host.ts';
import { prepareTraining } from './train.ts';

/** Starts a training worker; Electron passes its utilityProcess adapter, `emonas serve` forks. */
export type WorkerLauncher = (logFile?: string) => WorkerHandle;

/** The middle of the search space: what a typical candidate costs. */
const PROBE_GENOME: Genome = {
  learningRate: 4e-4,
  filters: 16,
  cells: 7,
  inputs: [0, 1, 1],
  ops: ['conv3d_3x3x3', 'convP3d_3x3', 'convP3d_3x3', 'conv2d_5x5'],
};

/** The search's steps per epoch when none is given (the reference's). */
const REFERENCE_STEPS = 20;

export interface EstimateRequest {
  /** The dataset folder. */
  folder: string;
  config?: Record<string, unknown>;
  /** The dataset problem's training settings (epochs, stepsPerEpoch, patch, maxMinutes, splitSeed). */
  problem?: Record<string, unknown>;
  workers?: number;
  cacheDir?: string;
}

function patchOf(value: unknown): Shape3 | undefined {
  if (value === undefined) return undefined;
  if (!Array.isArray(value) || value.length !== 3 || !value.every((v) => Number.isInteger(v) && v > 0)) {
    throw new EmonasError(
      'bad_request',
      'The patch must be three whole numbers of voxels, e.g. [32, 48, 32].',
    );
  }
  return value as Shape3;
}

function wholeOr(value: unknown, fallback: number, what: string): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
    throw new EmonasError(
      'bad_request',
      `${what} must be a whole number of at least 1, not ${String(value)}.`,
    );
  }
  return value;
}

/** Times the probe's steps in a worker; resolves with seconds per step and the start-up seconds. */
async function probe(
  request: EstimateRequest,
  patch: Shape3 | undefined,
  launchWorker: WorkerLauncher | undefined,
  signal: AbortSignal | undefined,
) {
  const out = await mkdtemp(join(tmpdir(), 'emonas-probe-'));
  try {
    const prepared = await prepareTraining({
      dataset: request.folder,
      genome: PROBE_GENOME,
      out,
      epochs: 1,
      stepsPerEpoch: 3,
      maxMinutes: 0,
      ...(patch && { patch }),
      ...(request.cacheDir && { cacheDir: request.cacheDir }),
    });
    const started = Date.now();
    const stepEnds: number[] = [];
    let backend = 'unknown';
    const run = trainInWorker(prepared.job, {
      ...(launchWorker && { spawn: () => launchWorker(join(out, 'worker.log')) }),
      onBackend: (choice) => (backend = choice.backend),
      onEvent: (event) => {
        if (event.type !== 'step') return;
        stepEnds.push(Date.now());
        // Three steps are all the probe needs: stop before the validation pass.
        if (stepEnds.length === 3) run.cancel();
      },
    });
    const abort = () => run.cancel();
    signal?.addEventListener('abort', abort, { once: true });
    const result = await run.result;
    signal?.removeEventListener('abort', abort);
    if (stepEnds.length < 3) {
      if (signal?.aborted) throw new EmonasError('cancelled', 'The estimate was cancelled.');
      throw new EmonasError(
        result.reason?.code === 'out_of_memory' ? 'out_of_memory' : 'worker_crashed',
        `The probe training could not run on the patch ${prepared.job.settings.patch.join('x')}: ${result.reason?.message ?? 'it stopped early'}`,
      );
    }
    const [first, , third] = stepEnds as [number, number, number];
    return {
      secondsPerStep: (third - first) / 2 / 1000,
      startupSeconds: (first - started) / 1000,
      backend,
      patch: prepared.job.settings.patch,
      valCases: prepared.job.val.length,
      plan: prepared.plan,
      trainCases: prepared.job.train.length,
    };
  } finally {
    await rm(out, { recursive: true, force: true });
  }
}

function plural(n: number, one: string): string {
  return `${n} ${one}${n === 1 ? '' : 's'}`;
}

export async function estimateSearch(
  request: EstimateRequest,
  options: { launchWorker?: WorkerLauncher; signal?: AbortSignal } = {},
): Promise<SearchEstimate> {
  const config = resolveSearchConfig(request.config ?? {});
  const problem = request.problem ?? {};
  const epochs = wholeOr(problem.epochs, config.objective.epochs, 'The epochs per candidate');
  const steps = wholeOr(problem.stepsPerEpoch, REFERENCE_STEPS, 'The steps per epoch');
  const workers = wholeOr(request.workers, 1, 'The number of workers');
  const maxMinutes = problem.maxMinutes === undefined ? 0 : Number(problem.maxMinutes);
  const measured = await probe(request, patchOf(problem.patch), options.launchWorker, options.signal);

  const params = countParams(PROBE_GENOME, { inChannels: 1, classes: measured.plan.labels.length });
  const { candidates, secondsPerCandidate, totalSeconds, diskBytes, limitedByTime } = estimateCost({
    config,
    epochs,
    stepsPerEpoch: steps,
    workers,
    cores: availableParallelism(),
    maxMinutes,
    secondsPerStep: measured.secondsPerStep,
    startupSeconds: measured.startupSeconds,
    valCases: measured.valCases,
    params,
    cases: measured.plan.cases,
    voxelsPerCase: measured.plan.medianShape.reduce((a, b) => a * b, 1),
  });

  const notes = [
    `Measured on the ${measured.backend} backend: ${measured.secondsPerStep.toFixed(2)} s per training step of a network with ${params.toLocaleString('en')} parameters on a ${measured.patch.join('x')} patch.`,
    `Up to ${plural(candidates, 'candidate')} of ${plural(epochs, 'epoch')} x ${plural(steps, 'step')}, plus validating ${plural(measured.valCases, 'case')} after each epoch; the surrogate and early stopping usually train fewer.`,
    'Networks in the search range from a quarter to four times this size, so single candidates vary; the total evens out.',
  ];
  if (limitedByTime) notes.push(`Each candidate stops at the ${maxMinutes}-minute limit per candidate.`);
  if (workers > 1) {
    notes.push(
      `${workers} workers train candidates side by side; on a machine with fewer cores than workers each one slows down accordingly.`,
    );
  }
  return {
    secondsPerStep: measured.secondsPerStep,
    startupSeconds: measured.startupSeconds,
    probeGenome: '16 filters, 7 cells',
    patch: [...measured.patch],
    candidates,
    secondsPerCandidate,
    totalSeconds,
    diskBytes,
    backend: measured.backend,
    notes,
  };
}
