// Runs in: a training worker process started with child_process.fork (headless engine). Adapts Node's
// IPC channel to the WorkerPort and serves one job; it ends when the engine goes (core/base/parent-watch.ts).
import { watchParent } from '../base/parent-watch.ts';
import type { HostMessage, WorkerMessage, WorkerPort } from './protocol.ts';
import { serveTraining } from './worker-serve.ts';

const port: WorkerPort = {
  onMessage(listener) {
    process.on('message', (m) => listener(m as HostMessage));
  },
  send(message: WorkerMessage, sent?: () => void) {
    if (process.connected) process.send?.(message, undefined, {}, () => sent?.());
    else sent?.();
  },
  onDisconnect(listener) {
    watchParent(listener);
  },
};

serveTraining(port, (code) => process.exit(code));
