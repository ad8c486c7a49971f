// Runs in: a worker process started with child_process.fork (the headless engine's training and prediction
// workers). Node's IPC channel as the worker's end of the pipe (protocol.ts), so a worker's serving code
// runs here as it does in an Electron utility process (electron/utility-port.ts). The worker ends when the
// engine goes (core/base/parent-watch.ts).
import { watchParent } from '../base/parent-watch.ts';
import type { WorkerPort } from './protocol.ts';

export function processPort<ToWorker, FromWorker>(): WorkerPort<ToWorker, FromWorker> {
  return {
    onMessage(listener) {
      process.on('message', (m) => listener(m as ToWorker));
    },
    send(message, sent) {
      if (process.connected) process.send?.(message, undefined, {}, () => sent?.());
      else sent?.();
    },
    onDisconnect(listener) {
      watchParent(listener);
    },
  };
}
