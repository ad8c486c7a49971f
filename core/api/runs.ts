// Runs in: any process. What the API says about searches and their runs: a run's summary and state, the
// candidates on its Pareto front, and what the events of a running search carry. The types the engine
// declares (the genome, a candidate's outcome) are its own, imported as types only: erased from the bundle,
// so the renderer still loads nothing but core/api and core/base.
import type { TrainingProtocol } from '../base/training-protocol.ts';
import type { Genome } from '../searchspace/genome.ts';

export type { Genome } from '../searchspace/genome.ts';
export type { EvaluationOutcome as CandidateOutcome } from '../search/protocol.ts';

/**
 * running: this engine is searching; stopping: asked to pause, finishing what it must; paused: stopped
 * part-way, resumable; stopped-at-budget: stopped part-way by the wall-clock budget it was given (the
 * demo's), resumable; interrupted: the process driving it died (a crash, a kill, a power cut), resumable;
 * cancelled: stopped for good on request, kept (its folder holds cancelled.json) but never resumed, by the
 * app or by `emonas resume`; finished: done; failed: stopped by an error (see the run.failed event),
 * resumable.
 */
export type RunState =
  | 'running'
  | 'stopping'
  | 'paused'
  | 'stopped-at-budget'
  | 'interrupted'
  | 'cancelled'
  | 'finished'
  | 'failed';

/** A search stopped by its wall-clock budget, recorded in its run folder until it is driven again. */
export interface BudgetStop {
  /** The budget it was given, in minutes. */
  minutes: number;
  /** When the budget stopped it. */
  at: string;
}

/** "stopped at its 9-minute time budget": the words every client uses for such a run. */
export function budgetStopText(minutes: number): string {
  return `stopped at its ${Number(minutes.toFixed(2))}-minute time budget`;
}

export interface RunSummary {
  /** The run's folder name under the engine's runs folder. */
  runId: string;
  runDir: string;
  createdAt: string;
  algorithm: string;
  /** What is optimised, e.g. 'formula'. */
  problem: string;
  evaluated: number;
  failed: number;
  state: RunState;
  lastActivity: string | null;
  /** Why the run failed, in words, when its state is 'failed'. */
  reason?: string;
  /** The budget that stopped the search, when its state is 'stopped-at-budget'. */
  stoppedAtBudget?: BudgetStop;
}

/**
 * What a run folder records about its search, read without replaying it: the head of the run report and
 * of the engine's run summaries (core/runs' `RunSummary` extends it).
 */
export interface RunRecord {
  /** run.json's id. */
  id: string;
  createdAt: string;
  algorithm: string;
  problem: string;
  evaluated: number;
  failed: number;
  finished: boolean;
  /** The search was stopped by its wall-clock budget and has not been driven since; null otherwise. */
  stoppedAtBudget: BudgetStop | null;
  /** The user cancelled the run (<run>/cancelled.json): kept, never resumed. */
  cancelled: boolean;
}

/** A candidate on the run's Pareto front. */
export interface FrontCandidate {
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
  /** The surrogate's prediction of f1Norm before training, when the search screened with it. */
  predictedF1Norm: number | null;
}

/** What a run is set to do, from its run.json: the dashboard's denominators. */
export interface RunPlan {
  generations: number;
  /** Candidates per generation (SaMEA's N, NSGA-II's population, random search's batch). */
  population: number;
  maxEvaluations: number | null;
  /** The epoch budget C of each candidate. */
  epochs: number;
  /** At most this many candidates are trained (the surrogate may skip some). */
  expectedCandidates: number;
  surrogate: boolean;
  /** Candidates trained at the same time (the executor's slots). */
  workers: number;
  /** The dataset folder searched, or null for the formula problem. */
  dataset: string | null;
  /** How its candidates train ('reference': the authors' protocol); absent in runs from before the choice. */
  protocol?: TrainingProtocol;
}

/** One generation's figures, as the search logged them. */
export interface GenerationRow {
  generation: number;
  phase: string | null;
  evaluated: number;
  frontSize: number | null;
  hypervolume: number | null;
  /** How well the surrogate ranked this generation's candidates (null before it is used). */
  kendallTau: number | null;
}

export type CandidateStatus = 'queued' | 'training' | 'completed' | 'failed';

/** One candidate the search asked for, whatever became of it. */
export interface CandidateRow {
  id: string;
  generation: number;
  phase: string;
  genome: Genome;
  params: number;
  status: CandidateStatus;
  /** The search's f1 (a failed candidate gets the bound); null until evaluated. */
  f1: number | null;
  f1Norm: number | null;
  f2Norm: number;
  valLoss: number | null;
  trainLoss: number | null;
  epochs: number | null;
  seconds: number | null;
  /** Why it failed, a sentence, with its code. */
  failure: { code: string; reason: string } | null;
  predictedF1Norm: number | null;
  predictedStd: number | null;
  onFront: boolean;
}

/** Everything the dashboard shows about a run, read from its folder (so nothing depends on events). */
export interface RunProgress {
  summary: RunSummary;
  plan: RunPlan;
  generations: GenerationRow[];
  candidates: CandidateRow[];
  /** Mean seconds of a completed candidate's evaluation, for the ETA; null before the first. */
  meanCandidateSeconds: number | null;
  /** While a dataset search reads and preprocesses its cases, before its first candidate. */
  preparing: { stage: 'reading' | 'preprocessing'; done: number; total: number } | null;
}

/** One epoch of a candidate's training log. */
export interface EpochPoint {
  epoch: number;
  trainLoss: number;
  valLoss: number;
  /** Validation Dice per foreground label. */
  valDice: Record<string, number>;
}

/** The wizard's estimate before a search starts, from a short measured probe. */
export interface SearchEstimate {
  /** Measured: seconds of one training step of the probe's genome on the chosen patch. */
  secondsPerStep: number;
  /** Seconds to start a worker and load the cases, measured once. */
  startupSeconds: number;
  probeGenome: string;
  /** The training protocol the search's candidates, and so the probe, train with. */
  protocol: TrainingProtocol;
  /** The training patch (the reference protocol's slab) and batch of every candidate and the probe. */
  patch: [number, number, number];
  batchSize: number;
  candidates: number;
  secondsPerCandidate: number;
  /** Wall time of the whole search with the chosen workers. */
  totalSeconds: number;
  /** Bytes the run folder and the preprocessed cases will take. */
  diskBytes: number;
  /** The mean parameter count disk is priced at: networks drawn as the search draws them, within its bound. */
  paramsPerCandidate: number;
  backend: string;
  notes: string[];
}
