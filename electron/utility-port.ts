// Runs in: an Electron utility process (the bundled training and prediction workers). Electron's
// parentPort as the worker's end of the pipe (core/train/protocol.ts), so a worker's serving code runs here
// as it does under child_process.fork (core/train/process-port.ts).
import { watchParent } from '../core/base/parent-watch.ts';
import type { WorkerPort } from '../core/train/protocol.ts';

interface ParentPort {
  on(event: 'message', listener: (event: { data: unknown }) => void): void;
  postMessage(message: unknown): void;
}

/** `bundle` names the worker in the error thrown when it is started anywhere else. */
export function utilityPort<ToWorker, FromWorker>(bundle: string): WorkerPort<ToWorker, FromWorker> {
  const parentPort = (process as unknown as { parentPort?: ParentPort }).parentPort;
  if (!parentPort) throw new Error(`${bundle} runs only in an Electron utility process.`);
  return {
    onMessage(listener) {
      parentPort.on('message', (event) => listener(event.data as ToWorker));
    },
    send(message, sent) {
      parentPort.postMessage(message);
      // postMessage hands the message to Electron synchronously; one turn later it has left this process.
      if (sent) setImmediate(sent);
    },
    // A utility process has no IPC channel to lose; the watch sees the app's process go all the same.
    onDisconnect: (listener) => watchParent(listener),
  };
}
