// Runs in: every process the engine starts (training, module, surrogate and prediction workers). Ends the
// process soon after its parent is gone, so a killed engine leaves no worker training on at full CPU.
// Node's IPC 'disconnect' event alone is not enough: it is delivered by the event loop, which a training
// step or a forest fit can hold for minutes, and an Electron utility process has no IPC channel to lose.
// So a small thread watches the parent pid too (an orphan is re-parented, so its ppid changes), and
// kills the process itself if the main thread does not end it within a grace period.
import { Worker } from 'node:worker_threads';

export interface ParentWatchOptions {
  /** How often the thread looks at the parent pid, in milliseconds. */
  intervalMs?: number;
  /** How long the main thread has to end the process itself once told, in milliseconds. */
  graceMs?: number;
}

// Plain CommonJS, evaluated as is: the thread must not depend on the TypeScript loader (Electron's
// utility process runs bundled JavaScript).
const WATCHER = `
const { parentPort, workerData } = require('node:worker_threads');
const timer = setInterval(() => {
  if (process.ppid === workerData.parent) return;
  clearInterval(timer);
  parentPort.postMessage('parent-lost');
  setTimeout(() => process.kill(process.pid, 'SIGKILL'), workerData.graceMs);
}, workerData.intervalMs);
`;

/**
 * Calls onLost once when the parent goes away (its IPC channel closes, or its pid stops being this
 * process's parent); onLost should stop the work and exit. If the process is still there graceMs later
 * (its main thread is busy), the watching thread kills it.
 */
export function watchParent(onLost: () => void, options: ParentWatchOptions = {}): void {
  let fired = false;
  const lost = (): void => {
    if (fired) return;
    fired = true;
    onLost();
  };
  process.once('disconnect', lost);
  const watcher = new Worker(WATCHER, {
    eval: true,
    workerData: {
      parent: process.ppid,
      intervalMs: options.intervalMs ?? 1000,
      graceMs: options.graceMs ?? 2000,
    },
  });
  watcher.on('message', lost);
  // Without the thread the IPC channel still ends the process; say why the watch is missing.
  watcher.on('error', (err) => process.stderr.write(`The parent watch could not start: ${err.message}\n`));
  // The watch never keeps the process alive once its own work is done.
  watcher.unref();
}
