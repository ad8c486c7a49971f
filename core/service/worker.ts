// Runs in: a Slurm job step (`emonas worker --candidate <file>`), or a test in process. The job step of
// core/executors/slurm/job-step.ts with its evaluators: the formula problem, and a training with the run's
// own set-up (core/train/setup/in-process.ts), its result turned into what the search learns from it.
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  runJobStep,
  type JobStepEvaluators,
  type WorkerHooks,
  type WorkerReport,
  type WorkerRequest,
} from '../executors/slurm/job-step.ts';
import { countParams } from '../nn/param-count.ts';
import { sanitiseOutcome } from '../search/archive.ts';
import { formulaEvaluator } from '../search/formula-problem.ts';
import { TRAINING_CHECKPOINT_FILE } from '../train/checkpoint.ts';
import { outcomeOf } from './training-launcher.ts';

export type { WorkerHooks, WorkerReport, WorkerRequest } from '../executors/slurm/job-step.ts';

const evaluators: JobStepEvaluators = {
  /** The formula problem, taking `epochs` epochs of `epochMs` each with a checkpoint after every one. */
  async formula(spec, evaluator, context) {
    const saved = (context.resume as { epoch?: unknown } | null)?.epoch;
    const from =
      typeof saved === 'number' && Number.isInteger(saved) && saved >= 0
        ? Math.min(saved, evaluator.epochs)
        : 0;
    if (from > 0) context.log(`Resuming after epoch ${from} of ${evaluator.epochs}.`);
    for (let epoch = from; epoch < evaluator.epochs; epoch++) {
      if (evaluator.epochMs > 0) await sleep(evaluator.epochMs, undefined, { signal: context.signal });
      else context.signal.throwIfAborted();
      context.save({ epoch: epoch + 1 });
      context.log(`Epoch ${epoch + 1} of ${evaluator.epochs} done; checkpoint saved.`);
    }
    const f2 = Math.log(countParams(spec.genome, evaluator.task));
    return formulaEvaluator(evaluator.problem)({ indices: spec.indices, genome: spec.genome, f2 });
  },
  async training(spec, evaluator, context) {
    // Loaded here: tfjs and the dataset pipeline cost seconds that the other evaluators need not pay.
    const { trainCandidateInProcess } = await import('../train/setup/in-process.ts');
    const result = await trainCandidateInProcess(
      { setupFile: evaluator.setupFile, genome: spec.genome, seed: spec.seed, outDir: spec.workDir },
      {
        signal: context.signal,
        onCheckpoint: (epoch) => {
          context.save({ epoch: epoch + 1 });
          context.log(`Checkpoint saved after epoch ${epoch + 1}.`);
        },
        log: context.log,
      },
    );
    return outcomeOf(result);
  },
  // The result is the truth now; the training's weights checkpoint would only take space.
  afterTraining(spec) {
    rmSync(join(spec.workDir, TRAINING_CHECKPOINT_FILE), { force: true });
  },
  sanitise: sanitiseOutcome,
};

export function runWorker(request: WorkerRequest, hooks: WorkerHooks = {}): Promise<WorkerReport> {
  return runJobStep(request, evaluators, hooks);
}
