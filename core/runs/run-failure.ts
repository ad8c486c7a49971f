// Runs in: the engine. Why a run's last drive ended in an error, kept in its folder (`failed.json`) so the
// run is still listed as failed, with its reason, after the engine that drove it has gone. Driving the run
// again removes it: from then on the journal and the lock tell its state.
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import type { ErrorData } from '../base/errors.ts';
import { readJsonSync, writeFileAtomic } from '../io/files.ts';
import { RUN_FILES } from './run-folder.ts';

interface FailureFile {
  format: 'emonas-run-failure';
  at: string;
  code: string;
  message: string;
  file?: string;
}

export async function writeRunFailure(runDir: string, error: ErrorData): Promise<void> {
  const failure: FailureFile = {
    format: 'emonas-run-failure',
    at: new Date().toISOString(),
    code: error.code,
    message: error.message,
    ...(error.file !== undefined && { file: error.file }),
  };
  await writeFileAtomic(join(runDir, RUN_FILES.failed), JSON.stringify(failure, null, 2) + '\n');
}

/** The reason the run failed, in words, or null when its last drive did not end in an error. */
export function readRunFailure(runDir: string): string | null {
  const value = readJsonSync(join(runDir, RUN_FILES.failed)) as Partial<FailureFile> | undefined;
  if (value?.format !== 'emonas-run-failure') return null;
  return typeof value.message === 'string' ? value.message : null;
}

export function clearRunFailure(runDir: string): void {
  rmSync(join(runDir, RUN_FILES.failed), { force: true });
}
