// Runs in: the engine. The arithmetic behind the search wizard's estimate of time and disk: from one
// measured training step of a typical candidate and the search's plan to the whole search's cost. The
// measurement itself (a probe training in a worker) is the engine's; this part is plain numbers.
import type { SearchConfig } from './config.ts';
import { plannedEvaluations } from './plan.ts';

/** Validating a whole case costs about this fraction of a training step (forward only, one case). */
const VALIDATION_PER_CASE = 0.5;
/** The preprocessed cache holds image and label maps as float32 per voxel. */
const CACHE_BYTES_PER_VOXEL = 8;
/** A candidate's folder besides its weights: model.json, card, split, logs. */
const CANDIDATE_OVERHEAD_BYTES = 64 * 1024;

export interface CostInputs {
  config: SearchConfig;
  /** Epochs and steps per epoch each candidate trains. */
  epochs: number;
  stepsPerEpoch: number;
  /** Candidates trained at once, and the cores they share. */
  workers: number;
  cores: number;
  /** The time limit per candidate in minutes; 0 for none. */
  maxMinutes: number;
  /** Measured: seconds per training step, and a worker's start-up before its first step. */
  secondsPerStep: number;
  startupSeconds: number;
  valCases: number;
  /** Parameters of the measured network, which stands for a typical candidate. */
  params: number;
  /** The preprocessed cache: cases and voxels per case. */
  cases: number;
  voxelsPerCase: number;
}

export interface CostEstimate {
  candidates: number;
  secondsPerCandidate: number;
  totalSeconds: number;
  diskBytes: number;
  /** A candidate's training would outlast the time limit, which therefore decides its time. */
  limitedByTime: boolean;
}

export function estimateCost(inputs: CostInputs): CostEstimate {
  const candidates = plannedEvaluations(inputs.config);
  const epochSeconds = inputs.secondsPerStep * (inputs.stepsPerEpoch + VALIDATION_PER_CASE * inputs.valCases);
  const training = inputs.epochs * epochSeconds;
  const limitedByTime = inputs.maxMinutes > 0 && training > inputs.maxMinutes * 60;
  const secondsPerCandidate = inputs.startupSeconds + (limitedByTime ? inputs.maxMinutes * 60 : training);
  // Workers share the machine's cores: beyond them, candidates run side by side but each one slower.
  const slowdown = Math.max(1, inputs.workers / inputs.cores);
  const totalSeconds = Math.ceil(candidates / inputs.workers) * secondsPerCandidate * slowdown;
  const cacheBytes = inputs.voxelsPerCase * inputs.cases * CACHE_BYTES_PER_VOXEL;
  const diskBytes = candidates * (inputs.params * 4 + CANDIDATE_OVERHEAD_BYTES) + cacheBytes;
  return { candidates, secondsPerCandidate, totalSeconds, diskBytes, limitedByTime };
}
