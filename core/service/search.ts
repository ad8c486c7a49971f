// Runs in: the engine. Searches as plain functions on JSON-able data, for the emonas command and the
// desktop app (over IPC): start a search in a new run folder, or resume one (what a run folder says about its
// search, front and summary, is core/runs/run-summary.ts).
// Two problems: a dataset folder, whose candidates are trained in a local worker pool (or on Slurm), and
// the formula problem, evaluated in process (benchmarks, tests, demos of the machinery). run.json and
// training.json record everything, so resume needs only the run folder.
import { existsSync } from 'node:fs';
import { totalmem } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { basename, join, resolve } from 'node:path';
import { EmonasError } from '../base/errors.ts';
import { InProcessExecutor } from '../executors/in-process.ts';
import type { Executor } from '../executors/executor.ts';
import { formulaEvaluatorSpec, reopenSlurmExecutor, slurmExecutorForRun } from '../executors/slurm/create.ts';
import type { EvaluatorSpec } from '../executors/slurm/worker-files.ts';
import { WorkerPoolExecutor } from '../executors/worker-pool.ts';
import { countParams } from '../nn/param-count.ts';
import { sizeCheck } from '../nn/size-check.ts';
import {
  RUN_FILES,
  createRunFolder,
  isCancelled,
  readRunManifest,
  recordBackend,
  softwareVersions,
  type RunManifest,
} from '../runs/run-folder.ts';
import { datasetFiles, type DatasetCaseFiles } from '../runs/dataset-files.ts';
import { front, type FrontRow } from '../runs/run-summary.ts';
import { runStudy, type StudyEvent, type SurrogateHost } from '../runs/study.ts';
import { WorkerRegistry } from '../runs/worker-registry.ts';
import { presetConfig, resolveSearchConfig, type SearchConfig } from '../search/config.ts';
import { createStrategy } from '../search/create-strategy.ts';
import { formulaEvaluator } from '../search/formula-problem.ts';
import { referenceNormalisation } from '../search/normalisation.ts';
import { parseFormulaProblem, problemObject, type FormulaProblem } from '../search/problem-input.ts';
import { evaluationPlan, searchAsRan, withEvaluationOrder } from '../search/plan.ts';
import type { EvaluationOutcome, SizeBound } from '../search/protocol.ts';
import { RandomForestSurrogate } from '../search/surrogate.ts';
import { cachedParamCounter, type ParamCounter } from '../searchspace/param-counter.ts';
import { checkBoundFeasible } from '../searchspace/size-bound.ts';
import type { TrainEvent } from '../train/job.ts';
import { SurrogateProcess } from './search-surrogate.ts';
import {
  parseDatasetProblem,
  searchSetupRequest,
  type DatasetProblem,
} from '../train/setup/dataset-problem.ts';
import type { WorkerSpawner } from '../train/setup/launch.ts';
import {
  datasetSummary,
  fillCache,
  prepareTrainingSetup,
  type TrainingSetup,
} from '../train/setup/prepare.ts';
import { readTrainingSetup, trainingFilePath, writeTrainingSetup } from '../train/setup/training-file.ts';
import { trainingLauncher } from './training-launcher.ts';

export type SearchProblem = FormulaProblem | DatasetProblem;
export type { DatasetProblem } from '../train/setup/dataset-problem.ts';
export type { StudyEvent } from '../runs/study.ts';

export interface StartSearchRequest {
  /** Folder of the new run; created, and refused if it already holds a run. */
  runDir: string;
  /** Algorithm, preset and overrides, e.g. {"algorithm": "samea", "preset": "quick", "seed": 3}. */
  config?: unknown;
  /**
   * What to search: {"kind": "dataset", "dataset": <folder>, ...training settings} or the formula problem
   * {"kind": "formula", ...} (the default).
   */
  problem?: unknown;
  /** Candidates evaluated at once by the local executor (default 1). */
  workers?: number;
  /** local (default): a worker pool for a dataset, in process for the formula; slurm: job arrays. */
  executor?: 'local' | 'slurm';
  /** With executor slurm: a --slurm-config file, or the settings themselves. */
  slurmConfig?: string | Record<string, unknown>;
}

export interface ResumeRequest {
  runDir: string;
  /** Candidates evaluated at once by the local executor (default: as many as the run had). */
  workers?: number;
}

/** What a search reports besides the study's events, for progress displays. */
export type SearchProgress =
  | { type: 'preparing'; stage: 'reading' | 'preprocessing'; done: number; total: number }
  | { type: 'training'; id: string; event: TrainEvent }
  | { type: 'surrogate'; generation: number; milliseconds: number };

export interface SearchDeps {
  /** Runs the evaluations; by default the one the request or the run's folder calls for. */
  executor?: Executor;
  /** By default countParams for the run's input channels and classes. */
  paramCounter?: ParamCounter;
  /** Answers surrogate predictions; by default the random forest in this thread. */
  surrogate?: SurrogateHost;
  onEvent?: (event: StudyEvent) => void;
  onProgress?: (progress: SearchProgress) => void;
  /** Starts a dataset search's training workers; by default a forked Node process per candidate. */
  spawnWorker?: WorkerSpawner;
  /** Stops the search; a stopped run is continued by resume(). */
  signal?: AbortSignal;
}

export interface SearchSummary {
  runDir: string;
  id: string;
  algorithm: string;
  status: 'finished' | 'stopped';
  evaluated: number;
  front: FrontRow[];
  notes: string[];
}

/** What the formula problem counts parameters for. */
const FORMULA_TASK = { inChannels: 1, classes: 1 };

function counterFor(task: { inChannels: number; classes: number }): ParamCounter {
  return (genome) => countParams(genome, task);
}

/**
 * Checks a problem from user input at once: a dataset search (its `epochs` falls back to the search
 * configuration's C) or the formula problem.
 */
export function parseProblem(value: unknown = {}, config?: SearchConfig): SearchProblem {
  const object = problemObject(value);
  if (object.kind === 'dataset') {
    return parseDatasetProblem(object, (config ?? presetConfig()).objective.epochs);
  }
  return parseFormulaProblem(object);
}

/** The in-process executor that evaluates the formula problem. */
export function formulaExecutor(problem: FormulaProblem, paramCounter: ParamCounter, slots = 1): Executor {
  const evaluate = formulaEvaluator(problem);
  return new InProcessExecutor(
    async (task, signal): Promise<EvaluationOutcome> => {
      if (problem.delayMs > 0) await sleep(problem.delayMs, undefined, { signal });
      return evaluate({
        indices: task.indices,
        genome: task.genome,
        f2: Math.log(paramCounter(task.genome)),
      });
    },
    { slots },
  );
}

function workersOf(value: number | undefined, fallback: number): number {
  const workers = value ?? fallback;
  if (!Number.isInteger(workers) || workers < 1) {
    throw new EmonasError(
      'bad_request',
      `The number of workers must be a whole number of at least 1, not ${workers}.`,
    );
  }
  return workers;
}

/**
 * What a Slurm job step runs for this problem (core/service/worker.ts); a dataset search's job steps train
 * with the run's training.json, as its local workers do.
 */
function slurmEvaluator(problem: SearchProblem, runDir: string): EvaluatorSpec {
  if (problem.kind === 'formula') return formulaEvaluatorSpec(problem);
  return { kind: 'training', setupFile: resolve(trainingFilePath(runDir)) };
}

/** The local executor for a problem: a training worker pool for a dataset, in process for the formula. */
function localExecutor(
  problem: SearchProblem,
  setup: TrainingSetup | null,
  paramCounter: ParamCounter,
  workers: number,
  deps: SearchDeps,
  runDir: string,
): Executor {
  if (problem.kind === 'formula') return formulaExecutor(problem, paramCounter, workers);
  const launcher = trainingLauncher(
    setup as TrainingSetup,
    ({ id, event }) => deps.onProgress?.({ type: 'training', id, event }),
    deps.spawnWorker,
    problem.maxParams ?? null,
    (backend) => {
      try {
        recordBackend(runDir, backend);
      } catch {
        // Called from a worker's message: a run.json that cannot be rewritten must not end the engine.
        // Each candidate's emonas-model.json records its backend too.
      }
    },
  );
  return new WorkerPoolExecutor(launcher, { slots: workers, registry: new WorkerRegistry(runDir) });
}

export async function startSearch(
  request: StartSearchRequest,
  deps: SearchDeps = {},
): Promise<SearchSummary> {
  if (existsSync(join(request.runDir, RUN_FILES.manifest))) {
    throw new EmonasError(
      'conflict',
      `A run already exists in ${request.runDir}; resume it, or choose an empty folder for a new run.`,
      { file: join(request.runDir, RUN_FILES.manifest) },
    );
  }
  const rawConfig = request.config ?? {};
  const requested = resolveSearchConfig(rawConfig);
  const problem = parseProblem(request.problem, requested);
  const workers = workersOf(request.workers, 1);
  if (request.executor === 'slurm' && request.slurmConfig === undefined) {
    throw new EmonasError('bad_request', 'A search on Slurm needs its settings: give --slurm-config <file>.');
  }
  let setup: TrainingSetup | null = null;
  if (problem.kind === 'dataset') {
    const onProgress = (stage: 'reading' | 'preprocessing', done: number, total: number): void =>
      deps.onProgress?.({ type: 'preparing', stage, done, total });
    setup = await prepareTrainingSetup(searchSetupRequest(problem, requested.objective, requested.protocol), {
      onProgress,
    });
    await fillCache(setup, { onProgress });
  }
  const task = setup?.task ?? FORMULA_TASK;
  const paramCounter = cachedParamCounter(deps.paramCounter ?? counterFor(task));
  const executor =
    deps.executor ??
    (request.executor === 'slurm'
      ? slurmExecutorForRun({
          runDir: request.runDir,
          slurmConfig: request.slurmConfig as string | Record<string, unknown>,
          evaluator: slurmEvaluator(problem, request.runDir),
        })
      : localExecutor(problem, setup, paramCounter, workers, deps, request.runDir));
  const capabilities = await executor.capabilities();
  const config = resolveSearchConfig(withEvaluationOrder(rawConfig, capabilities.slots));
  // The search's epoch budget C and the candidates' training epochs are one number.
  if (problem.kind === 'dataset') config.objective.epochs = problem.epochs;
  const manifest: RunManifest = {
    format: 'emonas-run',
    formatVersion: 1,
    id: basename(request.runDir),
    createdAt: new Date().toISOString(),
    search: config,
    problem: { ...problem },
    dataset: setup ? { ...datasetSummary(setup), files: await trainedFiles(setup) } : null,
    task,
    normalisation: referenceNormalisation(paramCounter, config.objective.alpha, config.objective.beta),
    software: softwareVersions(),
    executor: capabilities,
    evaluation: evaluationPlan(config, capabilities.slots),
    ...(setup && { sizeBound: datasetSizeBound(problem as DatasetProblem, setup, request.executor) }),
  };
  createRunFolder(request.runDir, manifest);
  if (setup) writeTrainingSetup(request.runDir, setup);
  return drive(request.runDir, manifest, { ...deps, executor, paramCounter });
}

/** Refuses a run the user cancelled, as the engine's search.resume does, before any data is prepared. */
export async function resume(request: ResumeRequest, deps: SearchDeps = {}): Promise<SearchSummary> {
  const manifest = readRunManifest(request.runDir);
  if (isCancelled(request.runDir)) {
    throw new EmonasError(
      'conflict',
      `The run in ${request.runDir} was cancelled, so it cannot be resumed; start a new search in another folder instead.`,
      { file: join(request.runDir, RUN_FILES.cancelled) },
    );
  }
  const problem =
    manifest.problem.kind === 'dataset'
      ? (manifest.problem as unknown as DatasetProblem)
      : parseFormulaProblem(manifest.problem);
  const paramCounter = cachedParamCounter(deps.paramCounter ?? counterFor(manifest.task));
  let executor = deps.executor ?? reopenSlurmExecutor(request.runDir);
  if (!executor) {
    let setup: TrainingSetup | null = null;
    if (problem.kind === 'dataset') {
      setup = readTrainingSetup(request.runDir);
      await fillCache(setup, {
        onProgress: (stage, done, total) => deps.onProgress?.({ type: 'preparing', stage, done, total }),
      });
    }
    const workers = workersOf(request.workers, manifest.executor?.slots ?? 1);
    executor = localExecutor(problem, setup, paramCounter, workers, deps, request.runDir);
  }
  return drive(request.runDir, manifest, { ...deps, executor, paramCounter });
}

/** Reports how long each surrogate answer kept the engine busy. */
function timedSurrogate(host: SurrogateHost, deps: SearchDeps): SurrogateHost {
  return {
    async predict(request) {
      const started = performance.now();
      const answer = await host.predict(request);
      deps.onProgress?.({
        type: 'surrogate',
        generation: request.generation,
        milliseconds: performance.now() - started,
      });
      return answer;
    },
  };
}

/**
 * A dataset search keeps every candidate within maxParams and, on this machine, within the memory a
 * training worker allows itself (3/4 of it): fixed in run.json, so a resumed run repairs alike. A bound no
 * network meets is refused before the run folder exists.
 */
export function datasetSizeBound(
  problem: DatasetProblem,
  setup: TrainingSetup,
  executor: StartSearchRequest['executor'],
): SizeBound {
  const { patch, batchSize } = setup.settings;
  const bound: SizeBound = {
    maxParams: problem.maxParams ?? null,
    memory:
      executor === 'slurm'
        ? null
        : { budgetBytes: Math.floor(totalmem() * 0.75), patch: [...patch], batch: batchSize },
  };
  const check = sizeCheck(bound, setup.task);
  if (check) checkBoundFeasible(check);
  return bound;
}

/** Sizes and hashes of the files of every case the search trains or validates on, for run.json. */
function trainedFiles(setup: TrainingSetup): Promise<DatasetCaseFiles[]> {
  const cases = [...setup.train, ...setup.val].map((c) => ({
    id: c.id,
    files: c.label === undefined ? [c.image] : [c.image, c.label],
  }));
  return datasetFiles(setup.datasetRoot, cases);
}

async function drive(
  runDir: string,
  manifest: RunManifest,
  deps: SearchDeps & { executor: Executor; paramCounter: ParamCounter },
): Promise<SearchSummary> {
  const check = manifest.sizeBound ? sizeCheck(manifest.sizeBound, manifest.task) : null;
  const strategy = createStrategy(searchAsRan(manifest.search, manifest.evaluation), {
    paramCounter: deps.paramCounter,
    normalisation: manifest.normalisation,
    sizeCheck: check,
  });
  // A dataset search fits off the engine's thread; the formula problem, whose evaluations cost nothing,
  // fits in it (benchmarks and tests run thousands of fits, each cheaper than a message round trip).
  const helper = !deps.surrogate && manifest.problem.kind === 'dataset' ? new SurrogateProcess() : null;
  try {
    const outcome = await runStudy({
      dir: runDir,
      strategy,
      executor: deps.executor,
      surrogate: timedSurrogate(deps.surrogate ?? helper ?? new RandomForestSurrogate(), deps),
      onEvent: deps.onEvent,
      signal: deps.signal,
      sizeCheck: check,
    });
    return {
      runDir,
      id: manifest.id,
      algorithm: manifest.search.algorithm,
      status: outcome.status,
      evaluated: outcome.evaluated,
      front: front({ runDir }),
      notes: outcome.notes,
    };
  } finally {
    helper?.close();
    await deps.executor.close();
  }
}
