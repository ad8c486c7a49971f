// Runs in: the engine, or an `emonas worker` task of a Slurm job. What a search learns from a candidate's
// training, whether the candidate trained in the local worker pool or in a Slurm job.
import type { EvaluationOutcome } from '../search/protocol.ts';
import type { CandidateResult } from '../train/job.ts';

/** A training's result; timedOut: stopped at the hard limit (its reason says so). */
export type TrainingResult = CandidateResult & { timedOut?: boolean };

/** What the search learns from a training: f1 and its parts, or why there is none. */
export function outcomeOf(result: TrainingResult): EvaluationOutcome {
  if (result.timedOut) {
    return {
      status: 'failed',
      code: 'time_limit',
      reason: result.reason?.message ?? 'The time limit was exceeded.',
    };
  }
  if (result.status === 'failed') {
    return {
      status: 'failed',
      code: result.reason?.code ?? 'internal',
      reason: result.reason?.message ?? 'Training failed without a reason.',
    };
  }
  return {
    status: 'completed',
    f1: result.f1,
    valLoss: result.valLoss,
    trainLoss: result.trainLoss,
    epochs: result.epochsRun,
    bestEpoch: result.bestEpoch,
  };
}
