// Runs in: any process. The ask/tell protocol between a search strategy and whatever drives it (the run
// journal and an executor, or an in-memory loop). A strategy is a deterministic state machine: it asks for
// candidates to be evaluated, for surrogate predictions and for records to be logged, and is told the
// answers; the same answers in the same order always produce the same requests.
import type { RandomState } from '../base/random.ts';
import type { Genome } from '../searchspace/genome.ts';

export type { SizeBound, SizeCheck } from '../searchspace/size-bound.ts';

export type Phase = 'initialisation' | 'learning' | 'exploitation' | 'infill' | 'offspring' | 'random';

export interface Prediction {
  /** Predicted normalised f1 (mean over the forest's trees). */
  mean: number;
  /** Population standard deviation over the trees. */
  std: number;
}

export interface CandidateSpec {
  /** Unique within a run, e.g. g12-c3 (generation 12, child 3); also its folder name. */
  id: string;
  generation: number;
  indices: number[];
  genome: Genome;
  params: number;
  /** f2 = ln(params). */
  f2: number;
  f2Norm: number;
  /** Seed for this candidate's weight initialisation, independent of evaluation order. */
  seed: number;
  /** The subproblem that generated it (SaMEA), null otherwise. */
  subproblem: number | null;
  parents: string[];
  phase: Phase;
  prediction: Prediction | null;
  /** Present only when the search's size bound changed the genome it first drew or bred. */
  sizeFit?: SizeFit;
}

/**
 * How a candidate was brought within the search's size bound: repaired (from: the genome in index form
 * before the repair), or drawn again (rejected: the draws that broke the bound).
 */
export type SizeFit = { method: 'repaired'; from: number[] } | { method: 'redrawn'; rejected: number };

/** What an evaluator reports: f1 and its parts, or why it could not produce one. */
export type EvaluationOutcome =
  | {
      status: 'completed';
      f1: number;
      valLoss?: number;
      trainLoss?: number;
      epochs?: number;
      bestEpoch?: number;
    }
  | { status: 'failed'; code: string; reason: string };

export interface EvaluateRequest {
  kind: 'evaluate';
  generation: number;
  candidates: CandidateSpec[];
  /** Positions of the strategy's random streams once these candidates were decided. */
  streams: Record<string, RandomState>;
}

export type SurrogateEngine = 'ml-random-forest' | 'fast-cart';

export interface SurrogateSettings {
  engine: SurrogateEngine;
  trees: number;
  minSamplesSplit: number;
  maxFeatures: number;
  seed: number;
}

export interface PredictRequest {
  kind: 'predict';
  generation: number;
  /** Identifies the training set within the run (the archive prefix it covers), so a host can reuse a fit. */
  fitKey: string;
  ids: string[];
  settings: SurrogateSettings;
  train: { x: number[][]; y: number[] };
  queries: number[][];
}

/** A record of what the strategy did and why (e.g. a generation summary), JSON-able. */
export interface LogRequest {
  kind: 'log';
  record: Record<string, unknown>;
}

export type StrategyRequest = EvaluateRequest | PredictRequest | LogRequest | { kind: 'done' };

export type StrategyAnswer =
  | { kind: 'evaluated'; outcomes: Record<string, EvaluationOutcome> }
  | { kind: 'predicted'; mean: number[]; std: number[] }
  | { kind: 'ack' };

export interface ArchiveEntry {
  /** Position in the archive (training order). */
  index: number;
  spec: CandidateSpec;
  outcome: EvaluationOutcome;
  failed: boolean;
  /** f1 used by the search: the reported f1 clamped to [0, bound]; a failed candidate gets the bound. */
  f1: number;
  f1Norm: number;
  f2Norm: number;
}

export interface SearchStrategy {
  readonly algorithm: string;
  /** The pending request; the same object until it is answered. */
  ask(): StrategyRequest;
  tell(answer: StrategyAnswer): void;
  /** Every candidate evaluated so far, in training order. */
  archive(): readonly ArchiveEntry[];
  /** The strategy's state as JSON-able data (population, probabilities, streams, ...). */
  view(): Record<string, unknown>;
}
