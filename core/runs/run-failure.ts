// Runs in: the engine. Why a run's last drive ended in an error, kept in its folder (`failed.json`) so the
// run is still listed as failed, with its reason, after the engine that drove it has gone. Driving the run
// again removes it: from then on the journal and the lock tell its state. A run that failed before its
// run.json was written (its dataset could not be prepared) has only this file, which then also keeps what
// its start was answered, so it too stays listed.
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { ErrorData } from '../base/errors.ts';
import { readJsonSync, writeFileAtomic } from '../io/files.ts';
import { RUN_FILES } from './run-folder.ts';

/** What a run's start was answered, kept for a run that failed before its run.json was written. */
export interface StartedRun {
  createdAt: string;
  algorithm: string;
  problem: string;
}

interface FailureFile {
  format: 'emonas-run-failure';
  at: string;
  code: string;
  message: string;
  file?: string;
  started?: StartedRun;
}

export async function writeRunFailure(runDir: string, error: ErrorData, started?: StartedRun): Promise<void> {
  const failure: FailureFile = {
    format: 'emonas-run-failure',
    at: new Date().toISOString(),
    code: error.code,
    message: error.message,
    ...(error.file !== undefined && { file: error.file }),
    ...(started && { started }),
  };
  await writeFileAtomic(join(runDir, RUN_FILES.failed), JSON.stringify(failure, null, 2) + '\n');
}

/** The reason the run failed, in words, or null when its last drive did not end in an error. */
export function readRunFailure(runDir: string): string | null {
  const value = readJsonSync(join(runDir, RUN_FILES.failed)) as Partial<FailureFile> | undefined;
  if (value?.format !== 'emonas-run-failure') return null;
  return typeof value.message === 'string' ? value.message : null;
}

export interface EarlyFailure {
  runDir: string;
  started: StartedRun;
  message: string;
}

/** The run in runDir if it failed before its run.json was written; null otherwise. */
export function readEarlyFailure(runDir: string): EarlyFailure | null {
  if (existsSync(join(runDir, RUN_FILES.manifest))) return null;
  const value = readJsonSync(join(runDir, RUN_FILES.failed)) as Partial<FailureFile> | undefined;
  const started = value?.started;
  if (value?.format !== 'emonas-run-failure' || typeof value.message !== 'string' || !started) return null;
  const fields = [started.createdAt, started.algorithm, started.problem];
  return fields.every((f) => typeof f === 'string') ? { runDir, started, message: value.message } : null;
}

/** The runs in root that failed before their run.json was written (in no order: the caller sorts). */
export function listEarlyFailures(root: string): EarlyFailure[] {
  if (!existsSync(root)) return [];
  return readdirSync(root, { withFileTypes: true })
    .filter((e) => e.isDirectory())
    .flatMap((e) => readEarlyFailure(join(root, e.name)) ?? []);
}

export function clearRunFailure(runDir: string): void {
  rmSync(join(runDir, RUN_FILES.failed), { force: true });
}
