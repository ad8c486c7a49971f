// Runs in: the engine and a Slurm job step (emonas worker). The files through which the coordinator and the
// job step talk on shared storage: the task spec the job reads (what to evaluate, with which evaluator,
// where to write), the result file it writes (the truth about a task, whoever reads it and however often
// the task ran), and the checkpoint a requeued task resumes from. Each is written atomically.
import { createHash } from 'node:crypto';
import { EmonasError } from '../../base/errors.ts';
import { readJsonFileSync, readJsonSync, writeFileAtomicSync } from '../../io/files.ts';
import type { FormulaProblemConfig } from '../../search/formula-problem.ts';
import type { EvaluationOutcome } from '../../search/protocol.ts';
import type { Genome } from '../../searchspace/genome.ts';

/** The formula problem in a job step: `epochs` epochs of `epochMs` each, checkpointed after every epoch. */
export interface FormulaEvaluatorSpec {
  kind: 'formula';
  problem: FormulaProblemConfig;
  /** Input channels and classes the search counts parameters for (f2). */
  task: { inChannels: number; classes: number };
  epochs: number;
  epochMs: number;
}

/**
 * Real training of the candidate (core/train) with its run's training set-up: the run's training.json on
 * storage the compute nodes see holds the dataset's cases, plan, split and the whole training settings,
 * objective included, so a job step trains exactly as a local worker would. The task's seed seeds the
 * candidate's weights and sampling.
 */
export interface TrainingEvaluatorSpec {
  kind: 'training';
  /** Absolute path of the run's training.json. */
  setupFile: string;
}

/** A function `(task, signal) => outcome` exported by a module on shared storage (tests, custom problems). */
export interface ModuleEvaluatorSpec {
  kind: 'module';
  module: string;
  export: string;
}

export type EvaluatorSpec = FormulaEvaluatorSpec | TrainingEvaluatorSpec | ModuleEvaluatorSpec;

export interface TaskSpec {
  format: 'emonas-slurm-task';
  version: 1;
  id: string;
  genome: Genome;
  indices: number[];
  seed: number;
  payload?: unknown;
  evaluator: EvaluatorSpec;
  /** Identifies this evaluation: a result or checkpoint with another fingerprint belongs to another one. */
  fingerprint: string;
  workDir: string;
  resultPath: string;
  checkpointPath: string;
}

export interface TaskResultFile {
  format: 'emonas-slurm-result';
  version: 1;
  id: string;
  fingerprint: string;
  outcome: EvaluationOutcome;
  /** Wall time of the evaluation over all its runs, in seconds. */
  seconds: number;
  /** The checkpoint the run that finished started from (null: it started from scratch). */
  resumedFrom: unknown;
  /** The job step that wrote it, or the coordinator when it gave a task up. */
  writtenBy: 'worker' | 'coordinator';
  slurmJob: string | null;
  finishedAt: string;
}

export interface CheckpointFile {
  format: 'emonas-slurm-checkpoint';
  version: 1;
  fingerprint: string;
  /** Seconds spent by the runs before, so the result's time covers all of them. */
  seconds: number;
  state: unknown;
  savedAt: string;
}

export const TASK_FILES = { result: 'result.json', checkpoint: 'checkpoint.json' } as const;

export function fingerprintOf(parts: {
  id: string;
  indices: readonly number[];
  seed: number;
  payload?: unknown;
  evaluator: EvaluatorSpec;
}): string {
  const text = JSON.stringify([parts.id, parts.indices, parts.seed, parts.payload ?? null, parts.evaluator]);
  return createHash('sha256').update(text).digest('hex').slice(0, 32);
}

/** Readers on other nodes must see the old file or the new one, never half of one: flushed, then renamed. */
export function writeFileAtomic(path: string, text: string): void {
  writeFileAtomicSync(path, text, { fsync: true });
}

/** The result of this evaluation if its file exists, is whole and belongs to it; otherwise null. */
export function readResultFile(path: string, id: string, fingerprint: string): TaskResultFile | null {
  const value = readJsonSync(path) as Partial<TaskResultFile> | undefined;
  if (
    value?.format !== 'emonas-slurm-result' ||
    value.version !== 1 ||
    value.id !== id ||
    value.fingerprint !== fingerprint ||
    typeof value.outcome !== 'object' ||
    value.outcome === null
  ) {
    return null;
  }
  return value as TaskResultFile;
}

/** The saved state of this evaluation, or null when there is none (or it belongs to another one). */
export function readCheckpointFile(path: string, fingerprint: string): CheckpointFile | null {
  const value = readJsonSync(path) as Partial<CheckpointFile> | undefined;
  if (
    value?.format !== 'emonas-slurm-checkpoint' ||
    value.version !== 1 ||
    value.fingerprint !== fingerprint
  ) {
    return null;
  }
  return value as CheckpointFile;
}

/** Reads a task spec written by the coordinator, checking what the job step relies on. */
export function readTaskSpec(path: string): TaskSpec {
  const value = readJsonFileSync(path, (problem) =>
    problem.kind === 'unreadable'
      ? new EmonasError(
          'not_found',
          `The candidate file ${path} cannot be read; it is written by the search coordinator on storage every node must see (check that the run folder is on shared storage).`,
          { file: path },
        )
      : new EmonasError(
          'unreadable_file',
          `The candidate file ${path} is not valid JSON: ${problem.detail}.`,
          {
            file: path,
          },
        ),
  );
  const spec = value as Partial<TaskSpec> | null;
  const problem =
    spec === null || typeof spec !== 'object'
      ? 'it is not an object'
      : spec.format !== 'emonas-slurm-task' || spec.version !== 1
        ? 'it is not a candidate file of this version of Emonas Studio (format emonas-slurm-task, version 1)'
        : typeof spec.id !== 'string' || spec.id === ''
          ? 'it has no candidate id'
          : !Array.isArray(spec.indices) || typeof spec.seed !== 'number'
            ? 'it lacks the genome indices or the seed'
            : typeof spec.fingerprint !== 'string'
              ? 'it has no fingerprint'
              : ![spec.workDir, spec.resultPath, spec.checkpointPath].every((p) => typeof p === 'string')
                ? 'it lacks the paths of its work folder, result or checkpoint'
                : !['formula', 'training', 'module'].includes(String(spec.evaluator?.kind))
                  ? `its evaluator kind ${JSON.stringify(spec.evaluator?.kind)} is not formula, training or module`
                  : spec.evaluator?.kind === 'training' && typeof spec.evaluator.setupFile !== 'string'
                    ? 'its training evaluator names no run training set-up (training.json); it was written by an earlier version of Emonas Studio, whose Slurm tasks this version cannot train'
                    : null;
  if (problem !== null) {
    throw new EmonasError('unsupported_format', `The candidate file ${path} cannot be run: ${problem}.`, {
      file: path,
    });
  }
  return spec as TaskSpec;
}
