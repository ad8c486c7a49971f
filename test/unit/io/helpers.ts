// Runs in: the vitest worker. Shared by the io tests: temporary folders, and /usr/bin/python3 with nibabel
// and numpy as the independent reader and writer the project's NIfTI and MetaImage files are checked against.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EmonasError } from '../../../core/base/errors.ts';

const PYTHON = '/usr/bin/python3';

export function makeTempDir(prefix: string): { dir: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), `emonas-io-${prefix}-`));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Fails loudly (never skips) when the Python peer is missing: CI installs it. */
export function requirePython(): void {
  const r = spawnSync(PYTHON, ['-c', 'import nibabel, numpy'], { encoding: 'utf8' });
  if (r.status !== 0) {
    throw new Error(
      `These tests need ${PYTHON} with nibabel and numpy importable (CI installs them); it failed with: ${r.error?.message ?? r.stderr}`,
    );
  }
}

/** Runs a Python script with arguments and returns what it prints as JSON on its last line. */
export function runPython<T>(script: string, args: string[] = []): T {
  const r = spawnSync(PYTHON, ['-c', script, ...args], { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  if (r.status !== 0) throw new Error(`python failed: ${r.error?.message ?? ''}\n${r.stderr}`);
  const lines = r.stdout.trim().split('\n');
  return JSON.parse(lines[lines.length - 1] as string) as T;
}

/** The EmonasError a promise rejects with (fails the test if it resolves or rejects with something else). */
export async function rejection(promise: Promise<unknown>): Promise<EmonasError> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof EmonasError) return err;
    throw new Error(`expected an EmonasError, got ${String(err)}`, { cause: err });
  }
  throw new Error('expected the call to fail, but it succeeded');
}

export function thrown(fn: () => unknown): EmonasError {
  try {
    fn();
  } catch (err) {
    if (err instanceof EmonasError) return err;
    throw new Error(`expected an EmonasError, got ${String(err)}`, { cause: err });
  }
  throw new Error('expected the call to fail, but it succeeded');
}
