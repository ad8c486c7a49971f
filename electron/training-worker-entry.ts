// Runs in: a training worker in an Electron utility process (built to dist/electron/training-worker.mjs by
// electron/build.ts). Serves one job over Electron's parentPort (utility-port.ts), like
// core/train/worker-entry.ts does under child_process.fork.
import type { HostMessage, WorkerMessage } from '../core/train/protocol.ts';
import { serveTraining } from '../core/train/worker-serve.ts';
import { utilityPort } from './utility-port.ts';

serveTraining(utilityPort<HostMessage, WorkerMessage>('training-worker.mjs'), (code) => process.exit(code));
