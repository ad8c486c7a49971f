// Runs in: a Slurm job step (`emonas worker --candidate <file>`), or a test in process. Evaluates one
// candidate from the file the coordinator wrote: skips the work when the candidate's result already exists
// (a task may run twice), resumes from the checkpoint of an earlier run, saves the checkpoint after every
// epoch, and writes the result file atomically on shared storage. Aborting (the job was sent SIGTERM at
// its time limit, or on preemption) stops at once without a result, so the next run resumes.
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { pathToFileURL } from 'node:url';
import { EmonasError, toErrorData } from '../base/errors.ts';
import type { EvaluationTask } from '../executors/executor.ts';
import {
  readCheckpointFile,
  readResultFile,
  readTaskSpec,
  writeFileAtomic,
  type CheckpointFile,
  type FormulaEvaluatorSpec,
  type ModuleEvaluatorSpec,
  type TaskResultFile,
  type TaskSpec,
  type TrainingEvaluatorSpec,
} from '../executors/slurm/worker-files.ts';
import { countParams } from '../nn/param-count.ts';
import { sanitiseOutcome } from '../search/archive.ts';
import { formulaEvaluator } from '../search/formula-problem.ts';
import { TRAINING_CHECKPOINT_FILE } from '../train/checkpoint.ts';
import type { EvaluationOutcome } from '../search/protocol.ts';
import { outcomeOf } from './training-outcome.ts';

export interface WorkerRequest {
  /** The candidate file the coordinator wrote (<run>/slurm/batches/<batch>/<index>.json). */
  candidate: string;
}

export interface WorkerHooks {
  /** Aborted when the job step must stop (SIGTERM, SIGUSR1): save and return without a result. */
  signal?: AbortSignal;
  log?: (line: string) => void;
}

export type WorkerReport =
  | {
      status: 'done';
      id: string;
      outcome: EvaluationOutcome;
      resultPath: string;
      /** The checkpoint this run started from; null: from scratch. */
      resumedFrom: unknown;
      /** The result was there already (a duplicate run), so nothing was evaluated. */
      alreadyDone: boolean;
    }
  | { status: 'interrupted'; id: string; checkpointPath: string; message: string };

/** What an evaluator gets besides the candidate. */
export interface EvaluatorContext {
  signal: AbortSignal;
  /** The state saved by an earlier run of this evaluation, or null. */
  resume: unknown;
  /** Saves the state a later run resumes from; call it after every epoch. */
  save(state: unknown): void;
  log(line: string): void;
}

export async function runWorker(request: WorkerRequest, hooks: WorkerHooks = {}): Promise<WorkerReport> {
  const spec = readTaskSpec(request.candidate);
  const log = hooks.log ?? ((): void => {});
  const signal = hooks.signal ?? new AbortController().signal;
  const existing = readResultFile(spec.resultPath, spec.id, spec.fingerprint);
  if (existing !== null) {
    log(`Candidate ${spec.id} already has its result (${spec.resultPath}); this run has nothing to do.`);
    return {
      status: 'done',
      id: spec.id,
      outcome: existing.outcome,
      resultPath: spec.resultPath,
      resumedFrom: existing.resumedFrom,
      alreadyDone: true,
    };
  }
  const checkpoint = readCheckpointFile(spec.checkpointPath, spec.fingerprint);
  const before = checkpoint?.seconds ?? 0;
  const started = performance.now();
  const elapsed = (): number => before + (performance.now() - started) / 1000;
  const context: EvaluatorContext = {
    signal,
    resume: checkpoint?.state ?? null,
    save(state) {
      const file: CheckpointFile = {
        format: 'emonas-slurm-checkpoint',
        version: 1,
        fingerprint: spec.fingerprint,
        seconds: elapsed(),
        state,
        savedAt: new Date().toISOString(),
      };
      writeFileAtomic(spec.checkpointPath, JSON.stringify(file) + '\n');
    },
    log,
  };
  log(
    `Evaluating candidate ${spec.id} (${spec.evaluator.kind} evaluator${slurmJob() ? `, Slurm job ${slurmJob()}` : ''}${checkpoint ? ', resuming from its checkpoint' : ''}).`,
  );
  let outcome: EvaluationOutcome;
  try {
    outcome = await evaluate(spec, context);
  } catch (err) {
    if (signal.aborted) {
      const message = `Stopped before candidate ${spec.id} finished; a later run resumes from ${spec.checkpointPath}.`;
      log(message);
      return { status: 'interrupted', id: spec.id, checkpointPath: spec.checkpointPath, message };
    }
    const data = toErrorData(err);
    outcome = { status: 'failed', code: data.code, reason: data.message };
  }
  const file: TaskResultFile = {
    format: 'emonas-slurm-result',
    version: 1,
    id: spec.id,
    fingerprint: spec.fingerprint,
    // NaN does not survive JSON: a diverged evaluation is written as the failure the search would make of it.
    outcome: sanitiseOutcome(outcome),
    seconds: elapsed(),
    resumedFrom: checkpoint?.state ?? null,
    writtenBy: 'worker',
    slurmJob: slurmJob(),
    finishedAt: new Date().toISOString(),
  };
  writeFileAtomic(spec.resultPath, JSON.stringify(file, null, 2) + '\n');
  log(`Wrote the result of candidate ${spec.id} (${file.outcome.status}) to ${spec.resultPath}.`);
  // The result is the truth now; the training's weights checkpoint would only take space.
  if (spec.evaluator.kind === 'training')
    rmSync(join(spec.workDir, TRAINING_CHECKPOINT_FILE), { force: true });
  return {
    status: 'done',
    id: spec.id,
    outcome: file.outcome,
    resultPath: spec.resultPath,
    resumedFrom: file.resumedFrom,
    alreadyDone: false,
  };
}

function slurmJob(): string | null {
  const { SLURM_ARRAY_JOB_ID: array, SLURM_ARRAY_TASK_ID: index, SLURM_JOB_ID: job } = process.env;
  if (array && index) return `${array}_${index}`;
  return job ?? null;
}

function evaluate(spec: TaskSpec, context: EvaluatorContext): Promise<EvaluationOutcome> {
  const evaluator = spec.evaluator;
  if (evaluator.kind === 'formula') return evaluateFormula(spec, evaluator, context);
  if (evaluator.kind === 'training') return evaluateTraining(spec, evaluator, context);
  return evaluateModule(spec, evaluator, context);
}

/** The formula problem, taking `epochs` epochs of `epochMs` each with a checkpoint after every one. */
async function evaluateFormula(
  spec: TaskSpec,
  evaluator: FormulaEvaluatorSpec,
  context: EvaluatorContext,
): Promise<EvaluationOutcome> {
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
}

/**
 * Trains the candidate with core/train in this process. The dataset's split comes from the run's split
 * seed, the same for every candidate; the candidate's own seed drives its weights and patch sampling.
 * core/train checkpoints every epoch in the candidate's folder; a requeued task resumes from it (when it
 * was made for this same training) and ends as the uninterrupted training would have.
 */
async function evaluateTraining(
  spec: TaskSpec,
  evaluator: TrainingEvaluatorSpec,
  context: EvaluatorContext,
): Promise<EvaluationOutcome> {
  // Loaded here: tfjs and the dataset pipeline cost seconds that the other evaluators need not pay.
  const [{ prepareTraining }, { selectBackend }, { loadCanonicalCase }, { runTraining }] = await Promise.all([
    import('./train.ts'),
    import('../train/backend.ts'),
    import('../train/case-loader.ts'),
    import('../train/trainer.ts'),
  ]);
  const { job } = await prepareTraining({
    dataset: evaluator.dataset,
    genome: spec.genome,
    out: spec.workDir,
    ...(evaluator.epochs !== undefined && { epochs: evaluator.epochs }),
    ...(evaluator.stepsPerEpoch !== undefined && { stepsPerEpoch: evaluator.stepsPerEpoch }),
    ...(evaluator.batchSize !== undefined && { batchSize: evaluator.batchSize }),
    ...(evaluator.patch !== undefined && { patch: evaluator.patch }),
    ...(evaluator.valFraction !== undefined && { valFraction: evaluator.valFraction }),
    ...(evaluator.testFraction !== undefined && { testFraction: evaluator.testFraction }),
    ...(evaluator.maxMinutes !== undefined && { maxMinutes: evaluator.maxMinutes }),
    ...(evaluator.cacheDir !== undefined && { cacheDir: evaluator.cacheDir }),
    seed: evaluator.splitSeed ?? 0,
  });
  job.settings.seed = spec.seed;
  const only = process.env.EMONAS_BACKEND;
  const choice = await selectBackend(only ? { only } : {});
  context.log(`Training on backend ${choice.backend}.`);
  const result = await runTraining(job, {
    load: loadCanonicalCase,
    backend: choice.backend,
    signal: context.signal,
    resume: true,
    // Removed by runWorker once the result file is written: a kill before that still resumes.
    keepCheckpoint: true,
    onCheckpoint: (epoch) => {
      context.save({ epoch: epoch + 1 });
      context.log(`Checkpoint saved after epoch ${epoch + 1}.`);
    },
    onEvent: (event) => {
      if (event.type === 'started') {
        if (event.resumedEpochs !== undefined) {
          context.log(
            `Resuming the training after epoch ${event.resumedEpochs} of ${event.epochs}, from its checkpoint.`,
          );
        }
        if (event.checkpointIgnored) context.log(`Not resuming: ${event.checkpointIgnored}`);
      }
      if (event.type === 'epoch') {
        context.log(`Epoch ${event.record.epoch + 1}: validation loss ${event.record.valLoss.toFixed(4)}.`);
      }
    },
  });
  return outcomeOf(result);
}

/** A function exported by a module on shared storage, called as the in-process executor calls one. */
async function evaluateModule(
  spec: TaskSpec,
  evaluator: ModuleEvaluatorSpec,
  context: EvaluatorContext,
): Promise<EvaluationOutcome> {
  const module = (await import(pathToFileURL(evaluator.module).href)) as Record<string, unknown>;
  const evaluate = module[evaluator.export];
  if (typeof evaluate !== 'function') {
    throw new EmonasError(
      'bad_request',
      `${evaluator.module} exports no function ${evaluator.export} to evaluate candidates with.`,
      { file: evaluator.module },
    );
  }
  const task: EvaluationTask = {
    id: spec.id,
    genome: spec.genome,
    indices: spec.indices,
    seed: spec.seed,
    workDir: spec.workDir,
    ...(spec.payload === undefined ? {} : { payload: spec.payload }),
  };
  return (await evaluate(task, context.signal)) as EvaluationOutcome;
}
