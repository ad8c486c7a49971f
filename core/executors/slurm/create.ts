// Runs in: the engine. Making a Slurm executor: from a configuration (object or --slurm-config file) for a
// new run, and again from what that run wrote down (<run>/slurm/executor.json) when the run is resumed,
// so a resumed search sends its candidates to the same cluster, under the same job name, with the same
// evaluator, and reattaches to the jobs it left running.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { EmonasError } from '../../base/errors.ts';
import type { FormulaProblemConfig } from '../../search/formula-problem.ts';
import { parseSlurmConfig, readSlurmConfig, type SlurmConfig } from './config.ts';
import { SlurmExecutor, type SlurmSetup } from './slurm-executor.ts';
import { writeFileAtomic, type EvaluatorSpec, type FormulaEvaluatorSpec } from './worker-files.ts';

const SETUP_FILE = 'executor.json';

interface SavedSetup {
  format: 'emonas-slurm-executor';
  version: 1;
  config: SlurmConfig;
  jobName: string;
  evaluator: EvaluatorSpec;
}

/**
 * A Slurm executor. The configuration is checked (an unknown setting or a wrong value is an error naming
 * it); the setup is written to <stateDir>/executor.json for openSlurmExecutor.
 */
export function createSlurmExecutor(config: unknown, setup: SlurmSetup): SlurmExecutor {
  const checked = parseSlurmConfig(config);
  const stateDir = resolve(setup.stateDir);
  mkdirSync(stateDir, { recursive: true });
  const saved: SavedSetup = {
    format: 'emonas-slurm-executor',
    version: 1,
    config: checked,
    jobName: setup.jobName,
    evaluator: setup.evaluator,
  };
  const executor = new SlurmExecutor(checked, { ...setup, stateDir });
  writeFileAtomic(join(stateDir, SETUP_FILE), JSON.stringify(saved, null, 2) + '\n');
  return executor;
}

/** The executor a state folder was made for, to resume its run. */
export function openSlurmExecutor(stateDir: string, log?: (line: string) => void): SlurmExecutor {
  const path = join(resolve(stateDir), SETUP_FILE);
  let saved: Partial<SavedSetup>;
  try {
    saved = JSON.parse(readFileSync(path, 'utf8')) as Partial<SavedSetup>;
  } catch {
    throw new EmonasError(
      'not_found',
      `${path} is missing or damaged, so this run's Slurm setup is unknown; resume it with --executor slurm --slurm-config <file>.`,
      { file: path },
    );
  }
  if (saved.format !== 'emonas-slurm-executor' || saved.version !== 1 || !saved.jobName || !saved.evaluator) {
    throw new EmonasError(
      'unsupported_format',
      `${path} is not a Slurm setup of this version of Emonas Studio.`,
      {
        file: path,
      },
    );
  }
  return new SlurmExecutor(parseSlurmConfig(saved.config, path), {
    stateDir: resolve(stateDir),
    jobName: saved.jobName,
    evaluator: saved.evaluator,
    ...(log && { log }),
  });
}

/** The folder of a run that holds its Slurm state. */
export function slurmStateDir(runDir: string): string {
  return join(resolve(runDir), 'slurm');
}

/**
 * The Slurm job name of a run's batches: emonas-<run folder name>-<6 hex digits of its path>, in the
 * characters Slurm keeps. Two runs in folders of the same name get different names, so one run's jobs are
 * never mistaken for another's (squeue --name, scancel --name).
 */
export function slurmJobName(runDir: string): string {
  const path = resolve(runDir);
  const tag = createHash('sha256').update(path).digest('hex').slice(0, 6);
  return `emonas-${basename(path).replace(/[^A-Za-z0-9._-]/g, '_')}-${tag}`;
}

/** The executor for a new run in runDir, with the configuration as an object or a --slurm-config file. */
export function slurmExecutorForRun(request: {
  runDir: string;
  /** A --slurm-config file, or the settings themselves (defaults fill the rest). */
  slurmConfig: string | Partial<SlurmConfig>;
  evaluator: EvaluatorSpec;
  log?: (line: string) => void;
}): SlurmExecutor {
  const config =
    typeof request.slurmConfig === 'string' ? readSlurmConfig(request.slurmConfig) : request.slurmConfig;
  return createSlurmExecutor(config, {
    stateDir: slurmStateDir(request.runDir),
    jobName: slurmJobName(request.runDir),
    evaluator: request.evaluator,
    ...(request.log && { log: request.log }),
  });
}

/** The executor of a run made with slurmExecutorForRun, or null when the run did not use Slurm. */
export function reopenSlurmExecutor(runDir: string, log?: (line: string) => void): SlurmExecutor | null {
  const stateDir = slurmStateDir(runDir);
  return existsSync(join(stateDir, SETUP_FILE)) ? openSlurmExecutor(stateDir, log) : null;
}

/**
 * The formula problem as a job step evaluates it: the same f1 as in process. `epochs` x `epochMs` of
 * waiting, checkpointed after every epoch, stand in for training (default: one epoch of delayMs).
 */
export function formulaEvaluatorSpec(
  problem: FormulaProblemConfig & { delayMs?: number },
  pacing: { epochs?: number; epochMs?: number } = {},
): FormulaEvaluatorSpec {
  return {
    kind: 'formula',
    problem: { noise: problem.noise, noiseSeed: problem.noiseSeed, divergence: problem.divergence },
    // What the search counts parameters for on the formula problem (core/service/search.ts), so f2 agrees.
    task: { inChannels: 1, classes: 1 },
    epochs: pacing.epochs ?? 1,
    epochMs: pacing.epochMs ?? problem.delayMs ?? 0,
  };
}
