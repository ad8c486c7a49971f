// Runs in: the engine. Searches as plain functions on JSON-able data, for the emonas command and the
// desktop app (over IPC): start a search in a new run folder, resume one, read a run's front, list runs.
// The evaluation is injected (an executor); without one, the formula problem runs in process, which is
// what these functions can search until real training is wired in.
import { setTimeout as sleep } from 'node:timers/promises';
import { basename, join } from 'node:path';
import { EmonasError } from '../base/errors.ts';
import { InProcessExecutor } from '../executors/in-process.ts';
import type { Executor } from '../executors/executor.ts';
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
import { resolveSearchConfig } from '../search/config.ts';
import { createStrategy } from '../search/create-strategy.ts';
import { DEFAULT_FORMULA, formulaEvaluator, type FormulaProblemConfig } from '../search/formula-problem.ts';
import { referenceNormalisation } from '../search/normalisation.ts';
import type { ArchiveEntry, CandidateSpec, EvaluationOutcome } from '../search/protocol.ts';
import { RandomForestSurrogate } from '../search/surrogate.ts';
import { functionalKey, genomeKey } from '../searchspace/encoding.ts';
import type { Genome } from '../searchspace/genome.ts';
import { cachedParamCounter, type ParamCounter } from '../searchspace/param-counter.ts';

export interface FormulaProblem extends FormulaProblemConfig {
  kind: 'formula';
  /** Milliseconds each evaluation takes, to watch a demo run or interrupt one. */
  delayMs: number;
}

export interface StartSearchRequest {
  /** Folder of the new run; created, and refused if it already holds a run. */
  runDir: string;
  /** Algorithm, preset and overrides, e.g. {"algorithm": "samea", "preset": "quick", "seed": 3}. */
  config?: unknown;
  /** The problem to search; only the formula problem until real training is wired in. */
  problem?: unknown;
}

export interface SearchDeps {
  /** Runs the evaluations; by default the formula problem in this process, one at a time. */
  executor?: Executor;
  /** By default countParams for one input channel and one class. */
  paramCounter?: ParamCounter;
  /** Answers surrogate predictions; by default the random forest in this thread. */
  surrogate?: SurrogateHost;
  onEvent?: (event: StudyEvent) => void;
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
}

const TASK = { inChannels: 1, classes: 1 };

function defaultCounter(): ParamCounter {
  return (genome) => countParams(genome, TASK);
}

export function parseFormulaProblem(value: unknown = {}): FormulaProblem {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new EmonasError('bad_request', 'A problem is an object, e.g. {"kind": "formula", "noise": 0.01}.');
  }
  const { kind = 'formula', ...rest } = value as Record<string, unknown>;
  if (kind !== 'formula') {
    throw new EmonasError(
      'bad_request',
      `Problem kind ${JSON.stringify(kind)} cannot be searched yet; only the formula problem can, until training is wired in.`,
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

export async function startSearch(
  request: StartSearchRequest,
  deps: SearchDeps = {},
): Promise<SearchSummary> {
  const problem = parseFormulaProblem(request.problem);
  const paramCounter = cachedParamCounter(deps.paramCounter ?? defaultCounter());
  const executor = deps.executor ?? formulaExecutor(problem, paramCounter);
  const capabilities = await executor.capabilities();
  const config = resolveSearchConfig(withEvaluationOrder(request.config ?? {}, capabilities.slots));
  const manifest: RunManifest = {
    format: 'emonas-run',
    formatVersion: 1,
    id: basename(request.runDir),
    createdAt: new Date().toISOString(),
    search: config,
    problem: { ...problem },
    dataset: null,
    task: TASK,
    normalisation: referenceNormalisation(paramCounter, config.objective.alpha, config.objective.beta),
    software: softwareVersions(),
    executor: capabilities,
  };
  createRunFolder(request.runDir, manifest);
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

export async function resume(request: { runDir: string }, deps: SearchDeps = {}): Promise<SearchSummary> {
  const manifest = readRunManifest(request.runDir);
  const paramCounter = cachedParamCounter(deps.paramCounter ?? defaultCounter());
  const executor = deps.executor ?? formulaExecutor(parseFormulaProblem(manifest.problem), paramCounter);
  return drive(request.runDir, manifest, { ...deps, executor, paramCounter });
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
  try {
    const outcome = await runStudy({
      dir: runDir,
      strategy,
      executor: deps.executor,
      surrogate: deps.surrogate ?? new RandomForestSurrogate(),
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
  return listRunFolders(request.root).map((runDir) => {
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
    };
  });
}
