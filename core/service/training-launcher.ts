// Runs in: the engine. The local worker pool's launcher for a dataset search, wiring core/executors to
// core/train: one training worker per candidate with the run's set-up (core/train/setup), and what the
// search learns from a candidate's training, whether it trained in the local pool or in a Slurm job step.
import { EmonasError } from '../base/errors.ts';
import type { EvaluationTask } from '../executors/executor.ts';
import type { EvaluationLauncher, RunningEvaluation } from '../executors/worker-pool.ts';
import { countParams } from '../nn/param-count.ts';
import type { EvaluationOutcome } from '../search/protocol.ts';
import type { BackendChoice } from '../train/backend.ts';
import type { TrainEvent } from '../train/job.ts';
import {
  forkDetachedTrainingWorker,
  startTraining,
  type TrainingResult,
  type WorkerSpawner,
} from '../train/setup/launch.ts';
import { preparedJob, type TrainingSetup } from '../train/setup/prepare.ts';

export interface TrainingProgress {
  id: string;
  event: TrainEvent;
}

/** The worker pool's launcher for a dataset search: one training worker per candidate. */
export function trainingLauncher(
  setup: TrainingSetup,
  onProgress?: (progress: TrainingProgress) => void,
  spawnWorker: WorkerSpawner = forkDetachedTrainingWorker,
  maxParams: number | null = null,
  /** Told the training backend each worker selected (core/train/backend.ts), for run.json. */
  onBackend?: (backend: string) => void,
): EvaluationLauncher {
  return (task: EvaluationTask): RunningEvaluation => {
    if (task.workDir === undefined) {
      throw new EmonasError('internal', `Candidate ${task.id} has no folder to train into.`);
    }
    const params = countParams(task.genome, setup.task);
    if (maxParams !== null && params > maxParams) {
      const outcome: EvaluationOutcome = {
        status: 'failed',
        code: 'too_large',
        reason: `The network has ${params.toLocaleString('en-US')} parameters, more than this search's bound of ${maxParams.toLocaleString('en-US')} (maxParams), so it was not trained.`,
      };
      return { pid: undefined, outcome: Promise.resolve(outcome), cancel: () => undefined };
    }
    const job = preparedJob(setup, task.genome, task.seed, task.workDir);
    const run = startTraining(job, setup.split, {
      ...(onProgress && { onEvent: (event: TrainEvent) => onProgress({ id: task.id, event }) }),
      ...(onBackend && { onBackend: (choice: BackendChoice) => onBackend(choice.backend) }),
      spawnWorker,
      hardLimit: true,
      // A candidate cut short (a killed search, an engine restart) continues from its last epoch's
      // checkpoint; a fresh folder has none, and another job's checkpoint is not used.
      resume: true,
    });
    return { pid: run.pid, outcome: run.result.then(outcomeOf), cancel: run.cancel };
  };
}

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
