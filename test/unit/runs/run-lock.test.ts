// One engine per run (core/runs/run-lock.ts): who holds run.lock, and who may take it.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EmonasError } from '../../../core/base/errors.ts';
import { RUN_FILES } from '../../../core/runs/run-folder.ts';
import { lockHolder, lockRun } from '../../../core/runs/run-lock.ts';
import { tempRoot } from './fixtures.ts';

/** Above Linux's largest pid (2^22), so no process can hold it. */
const DEAD_PID = 4_194_400;

function lockWith(text: string): string {
  const dir = tempRoot();
  writeFileSync(join(dir, RUN_FILES.lock), text);
  return dir;
}

describe('the run lock', () => {
  it('is held by nobody without a lock file, or with this process’s own', () => {
    expect(lockHolder(tempRoot())).toBe('none');
    expect(lockHolder(lockWith(String(process.pid)))).toBe('none');
  });

  it('names a live other process as alive, and refuses to take its run', () => {
    const dir = lockWith(String(process.ppid));
    expect(lockHolder(dir)).toBe('alive');
    let refusal: unknown;
    try {
      lockRun(dir);
    } catch (err) {
      refusal = err;
    }
    expect(refusal).toBeInstanceOf(EmonasError);
    expect((refusal as EmonasError).code).toBe('conflict');
    expect((refusal as Error).message).toContain(`pid ${process.ppid}`);
    expect(readFileSync(join(dir, RUN_FILES.lock), 'utf8')).toBe(String(process.ppid));
  });

  it('tells a gone process, or an empty lock left by a kill, as dead, and takes such a run over', () => {
    expect(lockHolder(lockWith(''))).toBe('dead');
    const dir = lockWith(String(DEAD_PID));
    expect(lockHolder(dir)).toBe('dead');
    const release = lockRun(dir);
    expect(readFileSync(join(dir, RUN_FILES.lock), 'utf8')).toBe(String(process.pid));
    expect(lockHolder(dir)).toBe('none');
    release();
    expect(existsSync(join(dir, RUN_FILES.lock))).toBe(false);
  });
});
