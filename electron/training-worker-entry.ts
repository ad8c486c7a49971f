// Runs in: a training worker in an Electron utility process (built to dist/electron/training-worker.mjs by
// electron/build.ts). Adapts Electron's parentPort to the WorkerPort and serves one job, like
// core/train/worker-entry.ts does under child_process.fork.
import { watchParent } from '../core/base/parent-watch.ts';
import type { HostMessage, WorkerMessage, WorkerPort } from '../core/train/protocol.ts';
import { serveTraining } from '../core/train/worker-serve.ts';

interface ParentPort {
  on(event: 'message', listener: (event: { data: unknown }) => void): void;
  postMessage(message: unknown): void;
}

const parentPort = (process as unknown as { parentPort?: ParentPort }).parentPort;
if (!parentPort) throw new Error('training-worker.mjs runs only in an Electron utility process.');

const port: WorkerPort = {
  onMessage(listener) {
    parentPort.on('message', (event) => listener(event.data as HostMessage));
  },
  send(message: WorkerMessage, sent?: () => void) {
    parentPort.postMessage(message);
    // postMessage hands the message to Electron synchronously; one turn later it has left this process.
    if (sent) setImmediate(sent);
  },
  // A utility process has no IPC channel to lose; the watch sees the app's process go all the same.
  onDisconnect: (listener) => watchParent(listener),
};

serveTraining(port, (code) => process.exit(code));
