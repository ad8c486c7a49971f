// Runs in: any Node process. Whether a pid names a live process on this machine: a run's lock, a final
// training's job, a worker's registry entry and an interrupted write's temporary file are stale exactly when
// the process that left them is gone.

/** Whether a process with this pid exists (one of another user counts). */
export function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
