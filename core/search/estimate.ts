// Runs in: the engine. The arithmetic behind the search wizard's estimate of time and disk: from one
// measured training step of a typical candidate and the search's plan to the whole search's cost, and the
// parameter count disk is priced at: the mean over networks drawn as the search draws them and brought
// within its size bound as it brings them. The measurement itself (a probe training in a worker) is the
// engine's; this part is plain numbers.
import { RandomStream } from '../base/random.ts';
import { decode } from '../searchspace/encoding.ts';
import type { ParamCounter } from '../searchspace/param-counter.ts';
import { latinHypercubeSample, randomGenome } from '../searchspace/sampling.ts';
import { drawWithinBound, repairToBound, type SizeCheck } from '../searchspace/size-bound.ts';
import type { SearchConfig } from './config.ts';
import { plannedEvaluations } from './plan.ts';

/** Validating a whole case costs about this fraction of a training step (forward only, one case). */
const VALIDATION_PER_CASE = 0.5;
/**
 * A validation batch of slabs is the forward pass of a training step on a batch of the same shape, and a
 * forward pass is about a third of a forward and backward pass (the backward pass computes two gradients,
 * for the inputs and for the weights, each about as costly as the forward pass).
 */
const VALIDATION_PER_SLAB_BATCH = 1 / 3;
/** The preprocessed cache holds each case's image as float32 and its labels as uint8 per voxel. */
const CACHE_BYTES_PER_VOXEL = 5;
/** A candidate's folder besides its weights: model.json, card, split, logs. */
const CANDIDATE_OVERHEAD_BYTES = 64 * 1024;
/** Bytes per parameter: saved weights are float32. */
const WEIGHT_BYTES_PER_PARAM = 4;
/** A training checkpoint holds the weights and Adam's two moments, all float32. */
const CHECKPOINT_BYTES_PER_PARAM = 12;
/** Networks drawn to price disk: enough for the mean to move by a few percent between seeds. */
export const PARAM_SAMPLE_SIZE = 256;
/** The draws are fixed, so the same search always gets the same estimate. */
const PARAM_SAMPLE_SEED = 0;

/** How each candidate validates after every epoch (core/train: whole volumes, or the reference's slabs). */
export type ValidationWork =
  { protocol: 'emonas'; cases: number } | { protocol: 'reference'; slabs: number; batchSize: number };

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
  validation: ValidationWork;
  /** Mean trainable parameters of the search's candidates (meanCandidateParams). */
  paramsPerCandidate: number;
  /** The preprocessed cache: the cases cached (training and validation) and voxels per case. */
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

/** Validation after one epoch, in training steps. */
export function validationSteps(validation: ValidationWork): number {
  if (validation.protocol === 'emonas') return VALIDATION_PER_CASE * validation.cases;
  return Math.ceil(validation.slabs / validation.batchSize) * VALIDATION_PER_SLAB_BATCH;
}

/**
 * The mean parameter count of the networks a search trains, over PARAM_SAMPLE_SIZE genomes drawn with a
 * fixed seed as the configuration draws them: SaMEA and NSGA-II's per-gene Latin hypercube, each genome
 * repaired to the bound; random search's uniform draws, redrawn while they break it. It stands for the
 * bred generations too, which recombine these genes and are repaired to the same bound.
 */
export function meanCandidateParams(
  config: SearchConfig,
  check: SizeCheck | null,
  params: ParamCounter,
): number {
  const rng = RandomStream.fromSeed(PARAM_SAMPLE_SEED, 'estimate');
  const genomes =
    config.algorithm === 'random'
      ? Array.from({ length: PARAM_SAMPLE_SIZE }, () =>
          check ? drawWithinBound(() => randomGenome(rng), check, params).indices : randomGenome(rng),
        )
      : latinHypercubeSample(PARAM_SAMPLE_SIZE, rng).map((x) =>
          check ? repairToBound(x, check, params) : x,
        );
  return genomes.reduce((sum, x) => sum + params(decode(x)), 0) / genomes.length;
}

export function estimateCost(inputs: CostInputs): CostEstimate {
  const candidates = plannedEvaluations(inputs.config);
  const epochSeconds = inputs.secondsPerStep * (inputs.stepsPerEpoch + validationSteps(inputs.validation));
  const training = inputs.epochs * epochSeconds;
  const limitedByTime = inputs.maxMinutes > 0 && training > inputs.maxMinutes * 60;
  const secondsPerCandidate = inputs.startupSeconds + (limitedByTime ? inputs.maxMinutes * 60 : training);
  // Workers share the machine's cores: beyond them, candidates run side by side but each one slower.
  const slowdown = Math.max(1, inputs.workers / inputs.cores);
  const totalSeconds = Math.ceil(candidates / inputs.workers) * secondsPerCandidate * slowdown;
  const cacheBytes = inputs.voxelsPerCase * inputs.cases * CACHE_BYTES_PER_VOXEL;
  const params = inputs.paramsPerCandidate;
  // Every candidate keeps its weights; each one in training also keeps a checkpoint until it ends.
  const saved = candidates * (params * WEIGHT_BYTES_PER_PARAM + CANDIDATE_OVERHEAD_BYTES);
  const checkpoints = Math.min(inputs.workers, candidates) * params * CHECKPOINT_BYTES_PER_PARAM;
  const diskBytes = Math.round(saved + checkpoints + cacheBytes);
  return { candidates, secondsPerCandidate, totalSeconds, diskBytes, limitedByTime };
}
