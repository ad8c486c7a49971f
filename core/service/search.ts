// Runs in: the engine. Searches as plain functions on JSON-able data, for the emonas command and the
// desktop app (over IPC): start a search in a new run folder, resume one, read a run's front, list runs.
// Two problems: a dataset folder, whose candidates are trained in a local worker pool (or on Slurm), and
// the formula problem, evaluated in process (benchmarks, tests, demos of the machinery). run.json and
// training.json record everything, so resume needs only the run folder.
import { existsSync, readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { basename, join } from 'node:path';
import { EmonasError } from '../base/errors.ts';
import { InProcessExecutor } from '../executors/in-process.ts';
import type { Executor } from '../executors/executor.ts';
import { formulaEvaluatorSpec, reopenSlurmExecutor, slurmExecutorForRun } from '../executors/slurm/create.ts';
import type { EvaluatorSpec } from '../executors/slurm/worker-files.ts';
import { WorkerPoolExecutor } from '../executors/worker-pool.ts';
import { countParams } from '../nn/param-count.ts';
import { readJournal } from '../runs/journal.ts';
import {
  RUN_FILES,
  createRunFolder,
  listRunFolders,
  readRunManifest,
  softwareVersions,
  type RunManifest,
} from '../runs/run-folder.ts';
import { runStudy, type StudyEvent, type SurrogateHost } from '../runs/study.ts';
import { Archive, frontOf } from '../search/archive.ts';
import { presetConfig, resolveSearchConfig, type SearchConfig } from '../search/config.ts';
import { createStrategy } from '../search/create-strategy.ts';
import { DEFAULT_FORMULA, formulaEvaluator, type FormulaProblemConfig } from '../search/formula-problem.ts';
import { referenceNormalisation } from '../search/normalisation.ts';
import type { ArchiveEntry, CandidateSpec, EvaluationOutcome } from '../search/protocol.ts';
import { RandomForestSurrogate } from '../search/surrogate.ts';
import { functionalKey, genomeKey } from '../searchspace/encoding.ts';
import type { Genome } from '../searchspace/genome.ts';
import { cachedParamCounter, type ParamCounter } from '../searchspace/param-counter.ts';
import type { TrainEvent } from '../train/job.ts';
import { SurrogateProcess } from './search-surrogate.ts';
import {
  datasetSummary,
  fillCache,
  parseDatasetProblem,
  prepareSearchTraining,
  readTrainingSetup,
  trainingLauncher,
  writeTrainingSetup,
  type DatasetProblem,
  type TrainingSetup,
  type WorkerSpawner,
} from './search-training.ts';

export interface FormulaProblem extends FormulaProblemConfig {
  kind: 'formula';
  /** Milliseconds each evaluation takes, to watch a demo run or interrupt one. */
  delayMs: number;
}

export type SearchProblem = FormulaProblem | DatasetProblem;
export type { DatasetProblem } from './search-training.ts';

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

export interface FrontRow {
  id: string;
  archiveIndex: number;
  generation: number;
  genome: Genome;
  params: number;
  f1: number;
  f1Norm: number;
  f2Norm: number;
  valLoss: number | null;
  trainLoss: number | null;
  predictedF1Norm: number | null;
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

export interface RunSummary {
  runDir: string;
  id: string;
  createdAt: string;
  algorithm: string;
  problem: string;
  evaluated: number;
  failed: number;
  finished: boolean;
  lastActivity: string | null;
  /** Candidates the configuration plans for (infill and duplicates can change it a little). */
  planned: number;
  /** Another process has the run open now. */
  running: boolean;
  /** `emonas finalize` has stored a final model in <run>/final. */
  finalized: boolean;
}

/** What the formula problem counts parameters for. */
const FORMULA_TASK = { inChannels: 1, classes: 1 };

function counterFor(task: { inChannels: number; classes: number }): ParamCounter {
  return (genome) => countParams(genome, task);
}

function problemObject(value: unknown): Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new EmonasError(
      'bad_request',
      'A problem is an object, e.g. {"kind": "dataset", "dataset": "/data/Task04_Hippocampus"}.',
    );
  }
  return value as Record<string, unknown>;
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

export function parseFormulaProblem(value: unknown = {}): FormulaProblem {
  const { kind = 'formula', ...rest } = problemObject(value);
  if (kind !== 'formula') {
    throw new EmonasError(
      'bad_request',
      `Unknown problem kind ${JSON.stringify(kind)}; use "dataset" (with a dataset folder) or "formula".`,
    );
  }
  const problem: FormulaProblem = { kind: 'formula', ...DEFAULT_FORMULA, delayMs: 0 };
  for (const [key, v] of Object.entries(rest)) {
    if (!(key in problem)) {
      throw new EmonasError(
        'bad_request',
        `The formula problem has no setting ${key}; it has noise, noiseSeed, divergence and delayMs.`,
      );
    }
    const expected = typeof problem[key as keyof FormulaProblem];
    if (typeof v !== expected || (typeof v === 'number' && !(Number.isFinite(v) && v >= 0))) {
      throw new EmonasError(
        'bad_request',
        `Setting ${key} of the formula problem must be a ${expected === 'number' ? 'non-negative number' : expected}.`,
      );
    }
    (problem as unknown as Record<string, unknown>)[key] = v;
  }
  return problem;
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

/** What a Slurm job step runs for this problem (core/service/worker.ts). */
function slurmEvaluator(problem: SearchProblem): EvaluatorSpec {
  if (problem.kind === 'formula') return formulaEvaluatorSpec(problem);
  return {
    kind: 'training',
    dataset: problem.dataset,
    epochs: problem.epochs,
    stepsPerEpoch: problem.stepsPerEpoch,
    batchSize: problem.batchSize,
    ...(problem.patch && { patch: problem.patch }),
    valFraction: problem.valFraction,
    testFraction: problem.testFraction,
    splitSeed: problem.splitSeed,
    maxMinutes: problem.maxMinutes,
    ...(problem.cacheDir !== null && { cacheDir: problem.cacheDir }),
  };
}

/** The local executor for a problem: a training worker pool for a dataset, in process for the formula. */
function localExecutor(
  problem: SearchProblem,
  setup: TrainingSetup | null,
  paramCounter: ParamCounter,
  workers: number,
  deps: SearchDeps,
): Executor {
  if (problem.kind === 'formula') return formulaExecutor(problem, paramCounter, workers);
  const launcher = trainingLauncher(
    setup as TrainingSetup,
    ({ id, event }) => deps.onProgress?.({ type: 'training', id, event }),
    deps.spawnWorker,
    problem.maxParams ?? null,
  );
  return new WorkerPoolExecutor(launcher, { slots: workers });
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
    setup = await prepareSearchTraining(problem, requested.objective, {
      onProgress: (stage, done, total) => deps.onProgress?.({ type: 'preparing', stage, done, total }),
    });
  }
  const task = setup?.task ?? FORMULA_TASK;
  const paramCounter = cachedParamCounter(deps.paramCounter ?? counterFor(task));
  const executor =
    deps.executor ??
    (request.executor === 'slurm'
      ? slurmExecutorForRun({
          runDir: request.runDir,
          slurmConfig: request.slurmConfig as string | Record<string, unknown>,
          evaluator: slurmEvaluator(problem),
        })
      : localExecutor(problem, setup, paramCounter, workers, deps));
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
    dataset: setup ? datasetSummary(setup) : null,
    task,
    normalisation: referenceNormalisation(paramCounter, config.objective.alpha, config.objective.beta),
    software: softwareVersions(),
    executor: capabilities,
  };
  createRunFolder(request.runDir, manifest);
  if (setup) writeTrainingSetup(request.runDir, setup);
  return drive(request.runDir, manifest, { ...deps, executor, paramCounter });
}

/**
 * With several slots, SaMEA evaluates a generation's children as one batch unless the user chose an order;
 * the choice is stored in run.json, so a resumed run keeps it whatever executor it gets.
 */
function withEvaluationOrder(config: unknown, slots: number): unknown {
  if (slots <= 1 || config === null || typeof config !== 'object' || Array.isArray(config)) return config;
  const c = config as Record<string, unknown>;
  if ((c.algorithm ?? 'samea') !== 'samea' || 'evaluationOrder' in c) return config;
  return { ...c, evaluationOrder: 'generation' };
}

export async function resume(request: ResumeRequest, deps: SearchDeps = {}): Promise<SearchSummary> {
  const manifest = readRunManifest(request.runDir);
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
    executor = localExecutor(problem, setup, paramCounter, workers, deps);
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

async function drive(
  runDir: string,
  manifest: RunManifest,
  deps: SearchDeps & { executor: Executor; paramCounter: ParamCounter },
): Promise<SearchSummary> {
  const strategy = createStrategy(manifest.search, {
    paramCounter: deps.paramCounter,
    normalisation: manifest.normalisation,
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

/**
 * The archive as the journal records it: the candidates of every fully answered evaluation request, in
 * the order the search added them. Needs no replay of the search.
 */
export function archiveFromJournal(runDir: string): ArchiveEntry[] {
  const manifest = readRunManifest(runDir);
  const { records } = readJournal(join(runDir, RUN_FILES.journal));
  const outcomes = new Map<string, EvaluationOutcome>();
  for (const r of records) if (r.t === 'result' && !outcomes.has(r.id)) outcomes.set(r.id, r.outcome);
  const archive = new Archive(
    manifest.normalisation,
    manifest.search.duplicateKey === 'functional' ? functionalKey : genomeKey,
  );
  for (const r of records) {
    if (r.t !== 'decision' || r.request.kind !== 'evaluate') continue;
    const specs: CandidateSpec[] = r.request.candidates;
    if (!specs.every((s) => outcomes.has(s.id))) break;
    for (const spec of specs) archive.add(spec, outcomes.get(spec.id) as EvaluationOutcome);
  }
  return archive.entries;
}

/** The run's current Pareto front, lowest f1 first. */
export function front(request: { runDir: string }): FrontRow[] {
  return frontOf(archiveFromJournal(request.runDir)).map((e) => ({
    id: e.spec.id,
    archiveIndex: e.index,
    generation: e.spec.generation,
    genome: e.spec.genome,
    params: e.spec.params,
    f1: e.f1,
    f1Norm: e.f1Norm,
    f2Norm: e.f2Norm,
    valLoss: e.outcome.status === 'completed' ? (e.outcome.valLoss ?? null) : null,
    trainLoss: e.outcome.status === 'completed' ? (e.outcome.trainLoss ?? null) : null,
    predictedF1Norm: e.spec.prediction?.mean ?? null,
  }));
}

/** Runs under a folder (each a subfolder with run.json), oldest name first. */
export function listRuns(request: { root: string }): RunSummary[] {
  return listRunFolders(request.root).map(readRunSummary);
}

/** One run's summary, read from its folder (which must hold a run.json). */
export function readRunSummary(runDir: string): RunSummary {
  const manifest = readRunManifest(runDir);
  const { records } = readJournal(join(runDir, RUN_FILES.journal));
  const results = records.filter((r) => r.t === 'result');
  const stamped = records.filter((r): r is Extract<typeof r, { at: string }> => 'at' in r);
  return {
    runDir,
    id: manifest.id,
    createdAt: manifest.createdAt,
    algorithm: manifest.search.algorithm,
    problem: String(manifest.problem.kind ?? 'unknown'),
    evaluated: results.length,
    failed: results.filter((r) => r.outcome.status === 'failed').length,
    finished: records.some((r) => r.t === 'finished'),
    lastActivity: stamped.length > 0 ? (stamped[stamped.length - 1] as { at: string }).at : null,
    planned: plannedEvaluations(manifest.search),
    running: lockHolder(runDir) === 'alive',
    finalized: existsSync(join(runDir, 'final', 'result.json')),
  };
}

/** Candidates a configuration plans for: one batch per generation, capped by maxEvaluations. */
export function plannedEvaluations(search: SearchConfig): number {
  const perGeneration = search.algorithm === 'random' ? search.batch : search.population;
  const planned = perGeneration * search.generations;
  return search.maxEvaluations === null ? planned : Math.min(planned, search.maxEvaluations);
}

/**
 * Who holds a run's lock: nobody (no lock, or this process's own), a live other process, or a process that
 * is gone without releasing it (the engine crashed or was killed).
 */
export function lockHolder(runDir: string): 'none' | 'alive' | 'dead' {
  const path = join(runDir, 'run.lock');
  if (!existsSync(path)) return 'none';
  let pid: number;
  try {
    pid = Number(readFileSync(path, 'utf8'));
  } catch {
    return 'none';
  }
  // An empty lock (killed while writing it) reads as 0: a dead holder all the same.
  if (!Number.isInteger(pid) || pid <= 0) return 'dead';
  if (pid === process.pid) return 'none';
  try {
    process.kill(pid, 0);
    return 'alive';
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM' ? 'alive' : 'dead';
  }
}

export interface FrontDetail extends FrontRow {
  /** Validation Dice per label at the candidate's best epoch (from its result.json), when trained. */
  valDice: Record<string, number> | null;
  /** The candidate's folder, which `emonas predict --model` takes. */
  folder: string;
}

/** The front with what each candidate's training folder adds (validation Dice per label). */
export function frontDetails(request: { runDir: string }): FrontDetail[] {
  return front(request).map((row) => {
    const folder = join(request.runDir, RUN_FILES.candidatesDir, row.id);
    return { ...row, valDice: readValDice(join(folder, 'result.json')), folder };
  });
}

function readValDice(path: string): Record<string, number> | null {
  if (!existsSync(path)) return null;
  try {
    const result = JSON.parse(readFileSync(path, 'utf8')) as { valDice?: unknown };
    const dice = result.valDice;
    if (dice === null || typeof dice !== 'object') return null;
    return Object.fromEntries(
      Object.entries(dice as Record<string, unknown>).filter(
        (e): e is [string, number] => typeof e[1] === 'number',
      ),
    );
  } catch {
    return null;
  }
}
