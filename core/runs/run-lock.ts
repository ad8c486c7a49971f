// Runs in: the engine. One engine per run: run.lock holds the pid of the process that has the run open. A
// lock whose process is gone (the engine crashed or was killed) is taken over by the next opener, and tells
// a reader that the run was interrupted rather than that it is running.
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { EmonasError } from '../base/errors.ts';
import { processExists } from '../base/process-exists.ts';
import { RUN_FILES } from './run-folder.ts';

/** The pid a lock file names; 0 for an empty or damaged lock (killed while writing it), null for none. */
function lockPid(path: string): number | null {
  if (!existsSync(path)) return null;
  let pid: number;
  try {
    pid = Number(readFileSync(path, 'utf8'));
  } catch {
    return null;
  }
  return Number.isInteger(pid) && pid > 0 ? pid : 0;
}

/**
 * Who holds a run's lock: nobody (no lock, or this process's own), a live other process, or a process that
 * is gone without releasing it.
 */
export function lockHolder(runDir: string): 'none' | 'alive' | 'dead' {
  const pid = lockPid(join(runDir, RUN_FILES.lock));
  if (pid === null || pid === process.pid) return 'none';
  // kill(0) would probe our own process group, so only a positive pid can be alive.
  return pid > 0 && processExists(pid) ? 'alive' : 'dead';
}

/** Takes the run's lock, refusing when another live process holds it; returns the release. */
export function lockRun(runDir: string): () => void {
  const path = join(runDir, RUN_FILES.lock);
  if (lockHolder(runDir) === 'alive') {
    throw new EmonasError(
      'conflict',
      `This run is already open in another process (pid ${lockPid(path)}); stop that one first.`,
      { file: path },
    );
  }
  writeFileSync(path, String(process.pid));
  return () => rmSync(path, { force: true });
}
