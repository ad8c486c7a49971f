// Runs in: the engine. The search wizard's estimate of time and disk, from a short measured probe: a
// mid-sized network (16 filters, 7 cells) trains three steps in a training worker with the training set-up
// the search's candidates will get (its protocol's patch or slabs, batch, split), the first step (graph
// set-up) left out and the next two timed. Disk is priced at the mean size of the networks the search
// draws within its bound, not at the probe's. The rest is arithmetic on the search's plan
// (core/search/estimate.ts), stated in the estimate's notes.
import { mkdtemp, rm } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { EmonasError } from '../base/errors.ts';
import type { SearchEstimate } from '../api/runs.ts';
import type { CaseEntry } from '../datasets/case-table.ts';
import type { Shape3 } from '../datasets/pipeline/grid.ts';
import { resampledShape, type PreprocessingPlan } from '../datasets/pipeline/plan.ts';
import { slabStarts } from '../datasets/pipeline/slabs.ts';
import { countParams } from '../nn/param-count.ts';
import { sizeCheck } from '../nn/size-check.ts';
import { resolveSearchConfig, type SearchConfig } from '../search/config.ts';
import {
  estimateCost,
  meanCandidateParams,
  PARAM_SAMPLE_SIZE,
  type ValidationWork,
} from '../search/estimate.ts';
import { cachedParamCounter } from '../searchspace/param-counter.ts';
import type { Genome } from '../searchspace/genome.ts';
import type { TrainJob } from '../train/job.ts';
import type { WorkerHandle } from '../train/protocol.ts';
import {
  parseDatasetProblem,
  searchSetupRequest,
  type DatasetProblem,
} from '../train/setup/dataset-problem.ts';
import { geometryOf, preparedJob, prepareTrainingSetup, type TrainingSetup } from '../train/setup/prepare.ts';
import { protocolOf } from '../train/setup/protocol.ts';
import { trainInWorker } from '../train/worker-host.ts';
import { datasetSizeBound } from './search.ts';

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

/** The probe's steps: the first builds the graph, the next two are timed. */
const PROBE_STEPS = 3;

export interface EstimateRequest {
  /** The dataset folder. */
  folder: string;
  /** The search configuration as search.start takes it; its `protocol` decides how candidates train. */
  config?: Record<string, unknown>;
  /** The dataset problem's training settings as search.start takes them (epochs, stepsPerEpoch, patch, ...). */
  problem?: Record<string, unknown>;
  workers?: number;
  cacheDir?: string;
}

function workersOf(value: unknown): number {
  if (value === undefined) return 1;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
    throw new EmonasError(
      'bad_request',
      `The number of workers must be a whole number of at least 1, not ${String(value)}.`,
    );
  }
  return value;
}

/** What the search's candidates will train with, checked as search.start checks it. */
export async function searchSetupFor(request: EstimateRequest): Promise<{
  config: SearchConfig;
  problem: DatasetProblem;
  setup: TrainingSetup;
}> {
  const config = resolveSearchConfig(request.config ?? {});
  const problem = parseDatasetProblem(
    {
      ...request.problem,
      kind: 'dataset',
      dataset: request.folder,
      ...(request.cacheDir && { cacheDir: request.cacheDir }),
    },
    config.objective.epochs,
  );
  const setup = await prepareTrainingSetup(searchSetupRequest(problem, config.objective, config.protocol));
  return { config, problem, setup };
}

/** The probe's job: the probe network on the search's set-up, for three steps and no time limit. */
export function probeJob(setup: TrainingSetup, out: string): TrainJob {
  return preparedJob(setup, PROBE_GENOME, 0, out, {
    epochs: 1,
    stepsPerEpoch: PROBE_STEPS,
    maxSeconds: null,
  });
}

/** Times the probe's steps in a worker; resolves with seconds per step and the start-up seconds. */
async function probe(setup: TrainingSetup, launchWorker: WorkerLauncher | undefined) {
  const out = await mkdtemp(join(tmpdir(), 'emonas-probe-'));
  try {
    const job = probeJob(setup, out);
    const started = Date.now();
    const stepEnds: number[] = [];
    let backend = 'unknown';
    const run = trainInWorker(job, {
      ...(launchWorker && { spawn: () => launchWorker(join(out, 'worker.log')) }),
      onBackend: (choice) => (backend = choice.backend),
      onEvent: (event) => {
        if (event.type !== 'step') return;
        stepEnds.push(Date.now());
        // Three steps are all the probe needs: stop before the validation pass.
        if (stepEnds.length === PROBE_STEPS) run.cancel();
      },
    });
    const result = await run.result;
    if (stepEnds.length < PROBE_STEPS) {
      throw new EmonasError(
        result.reason?.code === 'out_of_memory' ? 'out_of_memory' : 'worker_crashed',
        `The probe training could not run on the patch ${job.settings.patch.join('x')}: ${result.reason?.message ?? 'it stopped early'}`,
      );
    }
    const [first, , third] = stepEnds as [number, number, number];
    return {
      secondsPerStep: (third - first) / 2 / 1000,
      startupSeconds: (first - started) / 1000,
      backend,
    };
  } finally {
    await rm(out, { recursive: true, force: true });
  }
}

function plural(n: number, one: string): string {
  return `${n} ${one}${n === 1 ? '' : 's'}`;
}

/** A validation case's grid after preprocessing: the reference's PROMISE12 volumes are all cropped alike. */
function preprocessedShape(entry: CaseEntry, plan: PreprocessingPlan): Shape3 {
  if (plan.reference) return plan.medianShape;
  return resampledShape(geometryOf(entry), plan.axisOrder, plan.targetSpacing);
}

/** What the candidates validate after each epoch, as core/train validates under the set-up's protocol. */
export function validationWork(setup: TrainingSetup): ValidationWork {
  const { settings, plan, val } = setup;
  if (protocolOf(settings) !== 'reference') return { protocol: 'emonas', cases: val.length };
  const slabs = val.reduce(
    (sum, entry) => sum + slabStarts(preprocessedShape(entry, plan), settings.patch).length,
    0,
  );
  return { protocol: 'reference', slabs, batchSize: settings.batchSize };
}

function validationNote(validation: ValidationWork): string {
  if (validation.protocol === 'emonas') return `validating ${plural(validation.cases, 'case')}`;
  return `validating ${plural(validation.slabs, 'slab')} in batches of ${validation.batchSize}`;
}

function protocolNote(setup: TrainingSetup): string {
  const patch = setup.settings.patch.join('x');
  const batch = setup.settings.batchSize;
  return protocolOf(setup.settings) === 'reference'
    ? `Priced for the reference protocol: candidates train on random ${patch} slabs in batches of ${batch} and validate as a batch Dice over each validation volume's non-overlapping slabs, as the probe did.`
    : `Priced for this project's protocol: candidates train on ${patch} patches in batches of ${batch} and validate on whole volumes, as the probe did.`;
}

function boundNote(problem: DatasetProblem, params: number): string {
  const bound =
    problem.maxParams === null
      ? 'the training memory this machine allows'
      : `${problem.maxParams.toLocaleString('en')} parameters (maxParams) and the training memory this machine allows`;
  return `Disk prices each candidate's weights (and a checkpoint for each one in training) at ${Math.round(params).toLocaleString('en')} parameters: the mean of ${PARAM_SAMPLE_SIZE} networks drawn as this search draws them, brought within its bound of ${bound}.`;
}

export async function estimateSearch(
  request: EstimateRequest,
  options: { launchWorker?: WorkerLauncher } = {},
): Promise<SearchEstimate> {
  const workers = workersOf(request.workers);
  const { config, problem, setup } = await searchSetupFor(request);
  const counter = cachedParamCounter((genome) => countParams(genome, setup.task));
  const paramsPerCandidate = meanCandidateParams(
    config,
    sizeCheck(datasetSizeBound(problem, setup, undefined), setup.task),
    counter,
  );
  const measured = await probe(setup, options.launchWorker);

  const probeParams = counter(PROBE_GENOME);
  const validation = validationWork(setup);
  const epochs = problem.epochs;
  const steps = problem.stepsPerEpoch;
  const { candidates, secondsPerCandidate, totalSeconds, diskBytes, limitedByTime } = estimateCost({
    config,
    epochs,
    stepsPerEpoch: steps,
    workers,
    cores: availableParallelism(),
    maxMinutes: problem.maxMinutes,
    secondsPerStep: measured.secondsPerStep,
    startupSeconds: measured.startupSeconds,
    validation,
    paramsPerCandidate,
    cases: setup.train.length + setup.val.length,
    voxelsPerCase: setup.plan.medianShape.reduce((a, b) => a * b, 1),
  });

  const patch = [...setup.settings.patch] as [number, number, number];
  const notes = [
    protocolNote(setup),
    `Measured on the ${measured.backend} backend: ${measured.secondsPerStep.toFixed(2)} s per training step of a network with ${probeParams.toLocaleString('en')} parameters on a ${patch.join('x')} patch.`,
    `Up to ${plural(candidates, 'candidate')} of ${plural(epochs, 'epoch')} x ${plural(steps, 'step')}, plus ${validationNote(validation)} after each epoch; the surrogate and early stopping usually train fewer.`,
    'Single candidates are smaller or larger than the probe network and train faster or slower; the total evens out.',
    boundNote(problem, paramsPerCandidate),
  ];
  if (limitedByTime)
    notes.push(`Each candidate stops at the ${problem.maxMinutes}-minute limit per candidate.`);
  if (workers > 1) {
    notes.push(
      `${workers} workers train candidates side by side; on a machine with fewer cores than workers each one slows down accordingly.`,
    );
  }
  return {
    secondsPerStep: measured.secondsPerStep,
    startupSeconds: measured.startupSeconds,
    probeGenome: '16 filters, 7 cells',
    protocol: protocolOf(setup.settings),
    patch,
    batchSize: setup.settings.batchSize,
    candidates,
    secondsPerCandidate,
    totalSeconds,
    diskBytes,
    paramsPerCandidate: Math.round(paramsPerCandidate),
    backend: measured.backend,
    notes,
  };
}
