// Runs in: a Slurm job step (`emonas worker --candidate <file>`), or a test in process. Evaluates one
// candidate from the file the coordinator wrote: skips the work when the candidate's result already exists
// (a task may run twice), resumes from the checkpoint of an earlier run, saves the checkpoint after every
// epoch, and writes the result file atomically on shared storage. Aborting (the job was sent SIGTERM at
// its time limit, or on preemption) stops at once without a result, so the next run resumes. How a formula
// or a training candidate is evaluated, and how the search reads an outcome, are handed in
// (core/service/worker.ts), not imported.
import { pathToFileURL } from 'node:url';
import { EmonasError, toErrorData } from '../../base/errors.ts';
import type { EvaluationOutcome } from '../../search/protocol.ts';
import type { EvaluationTask } from '../executor.ts';
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
} from './worker-files.ts';

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

/** How the job step evaluates the formula problem and a training; module evaluators it loads itself. */
export interface JobStepEvaluators {
  formula(
    spec: TaskSpec,
    evaluator: FormulaEvaluatorSpec,
    context: EvaluatorContext,
  ): Promise<EvaluationOutcome>;
  training(
    spec: TaskSpec,
    evaluator: TrainingEvaluatorSpec,
    context: EvaluatorContext,
  ): Promise<EvaluationOutcome>;
  /** Once a training's result file is written: what only a later run would have needed can go. */
  afterTraining(spec: TaskSpec): void;
  /** The outcome as the search takes it (a diverged one as a failure: NaN does not survive JSON). */
  sanitise(outcome: EvaluationOutcome): EvaluationOutcome;
}

export async function runJobStep(
  request: WorkerRequest,
  evaluators: JobStepEvaluators,
  hooks: WorkerHooks = {},
): Promise<WorkerReport> {
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
    outcome = await evaluate(spec, evaluators, context);
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
    outcome: evaluators.sanitise(outcome),
    seconds: elapsed(),
    resumedFrom: checkpoint?.state ?? null,
    writtenBy: 'worker',
    slurmJob: slurmJob(),
    finishedAt: new Date().toISOString(),
  };
  writeFileAtomic(spec.resultPath, JSON.stringify(file, null, 2) + '\n');
  log(`Wrote the result of candidate ${spec.id} (${file.outcome.status}) to ${spec.resultPath}.`);
  if (spec.evaluator.kind === 'training') evaluators.afterTraining(spec);
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

function evaluate(
  spec: TaskSpec,
  evaluators: JobStepEvaluators,
  context: EvaluatorContext,
): Promise<EvaluationOutcome> {
  const evaluator = spec.evaluator;
  if (evaluator.kind === 'formula') return evaluators.formula(spec, evaluator, context);
  if (evaluator.kind === 'training') return evaluators.training(spec, evaluator, context);
  return evaluateModule(spec, evaluator, context);
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
