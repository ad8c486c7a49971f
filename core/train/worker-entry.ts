// Runs in: a training worker process started with child_process.fork (headless engine). Serves one job over
// Node's IPC channel (process-port.ts); it ends when the engine goes (core/base/parent-watch.ts).
import { processPort } from './process-port.ts';
import type { HostMessage, WorkerMessage } from './protocol.ts';
import { serveTraining } from './worker-serve.ts';

serveTraining(processPort<HostMessage, WorkerMessage>(), (code) => process.exit(code));
