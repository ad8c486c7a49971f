// Runs in: any process. What the API says about searches and their runs: a run's summary and state, the
// candidates on its Pareto front, and what the events of a running search carry. These mirror core/search
// and core/runs as plain data, because core/api may import core/base only.

export type OpName =
  | 'conv3d_1x1x1'
  | 'conv3d_3x3x3'
  | 'conv2d_3x3'
  | 'conv2d_5x5'
  | 'convP3d_3x3'
  | 'convP3d_5x5'
  | 'identity'
  | 'conv3d_5x5x5'
  | 'conv2d_7x7'
  | 'convP3d_7x7';

/** The EMONAS-Net genome (method.md section 1). */
export interface Genome {
  learningRate: number;
  filters: 8 | 16 | 32;
  cells: 5 | 7 | 9;
  inputs: [number, number, number];
  ops: [OpName, OpName, OpName, OpName];
}

/**
 * running: this engine is searching; stopping: asked to pause, finishing what it must; paused: stopped
 * part-way, resumable; finished: done; failed: stopped by an error (see the run.failed event), resumable.
 */
export type RunState = 'running' | 'stopping' | 'paused' | 'finished' | 'failed';

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

export type CandidateOutcome =
  | {
      status: 'completed';
      f1: number;
      valLoss?: number;
      trainLoss?: number;
      epochs?: number;
      bestEpoch?: number;
    }
  | { status: 'failed'; code: string; reason: string };
