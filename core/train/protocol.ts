// Runs in: any process (no tfjs). The messages between the engine and a training worker, and the two
// ends of the pipe as small interfaces, so the same worker code runs under child_process.fork (headless)
// and Electron's utilityProcess (the desktop app) with only the port adapters differing. The ends are
// generic in their messages: the prediction worker (core/service/review-worker-serve.ts) uses the same
// ends with its own, so one launcher and one pair of adapters start either worker.
import type { ErrorData } from '../base/errors.ts';
import type { BackendChoice } from './backend.ts';
import type { CandidateResult, TrainEvent, TrainJob } from './job.ts';

export type HostMessage =
  /** resume: continue from the job's checkpoint when it was made for this job. */
  { type: 'train'; job: TrainJob; resume?: boolean } | { type: 'cancel' };

export type WorkerMessage =
  | { type: 'backend'; choice: BackendChoice }
  | { type: 'event'; event: TrainEvent }
  | { type: 'result'; result: CandidateResult }
  | { type: 'error'; error: ErrorData };

/** The worker's end: what it receives from and sends to the engine. */
export interface WorkerPort<ToWorker = HostMessage, FromWorker = WorkerMessage> {
  onMessage(listener: (message: ToWorker) => void): void;
  /** `sent` runs once the message has left the process, so exiting after it cannot lose it. */
  send(message: FromWorker, sent?: () => void): void;
  /**
   * Called when the engine side goes away (its channel closes or the engine process dies); the worker then
   * stops. An adapter calls core/base/parent-watch.ts's watchParent, which also kills a worker whose main
   * thread is too busy to stop in time.
   */
  onDisconnect(listener: () => void): void;
}

/** The engine's end: one worker process. */
export interface WorkerHandle<ToWorker = HostMessage, FromWorker = WorkerMessage> {
  readonly pid: number | undefined;
  send(message: ToWorker): void;
  onMessage(listener: (message: FromWorker) => void): void;
  /** Exactly once, when the process has ended. */
  onExit(listener: (code: number | null, signal: string | null) => void): void;
  /** The worker's stderr, for the reason of a crash. */
  onStderr(listener: (text: string) => void): void;
  kill(): void;
}
