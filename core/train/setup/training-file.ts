// Runs in: the engine and a Slurm job step. <run>/training.json: a search's training set-up, written once
// when the run starts and read by everything that trains the run's candidates afterwards (the local worker
// pool on resume, every Slurm job step, finalize), so none of them reads the dataset or recomputes the
// plan and split again.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { EmonasError } from '../../base/errors.ts';
import { writeFileAtomicSync } from '../../io/files.ts';
import type { TrainingSetup } from './prepare.ts';

export const TRAINING_FILE = 'training.json';

export function trainingFilePath(runDir: string): string {
  return join(runDir, TRAINING_FILE);
}

export function writeTrainingSetup(runDir: string, setup: TrainingSetup): void {
  writeFileAtomicSync(trainingFilePath(runDir), JSON.stringify(setup) + '\n');
}

/** The set-up of the run in runDir. */
export function readTrainingSetup(runDir: string): TrainingSetup {
  return readTrainingFile(trainingFilePath(runDir));
}

/** A training.json by its path (a Slurm task names its run's). */
export function readTrainingFile(path: string): TrainingSetup {
  if (!existsSync(path)) {
    throw new EmonasError(
      'not_found',
      `${path} is missing, so this run's training setup (split, plan, settings) is unknown; the run cannot train more candidates.`,
      { file: path },
    );
  }
  let setup: Partial<TrainingSetup>;
  try {
    setup = JSON.parse(readFileSync(path, 'utf8')) as Partial<TrainingSetup>;
  } catch (err) {
    throw new EmonasError('unreadable_file', `${path} is not valid JSON: ${(err as Error).message}`, {
      file: path,
    });
  }
  if (setup.format !== 'emonas-search-training' || setup.version !== 1) {
    throw new EmonasError(
      'unsupported_format',
      `${path} is not a training setup of this version of Emonas Studio.`,
      { file: path },
    );
  }
  return setup as TrainingSetup;
}
