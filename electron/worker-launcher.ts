// Runs in: the Electron main process. Starts the engine's workers in Electron utility processes
// (utilityProcess.fork): each candidate's training worker, speaking the same messages (core/train/protocol.ts)
// as the child_process.fork workers of `emonas serve`, and the prediction worker of the review, the test
// evaluation and applied scans (core/service/review-worker-serve.ts). The engine takes the launchers
// injected (createEngine's launchWorker and launchPrediction); without Electron's utilityProcess, none is
// chosen and the engine forks as it does headless.
import type {
  PredictionJob,
  PredictionLauncher,
  PredictionReport,
} from '../core/service/review-worker-serve.ts';
import type { WorkerLauncher } from '../core/service/search-estimate.ts';
import type { HostMessage, WorkerHandle, WorkerMessage } from '../core/train/protocol.ts';
import { pipeWorkerOutput, type OutputStream } from '../core/train/worker-output.ts';

/** The part of Electron's UtilityProcess the launcher uses, so a test can stand in for it. */
export interface UtilityChild {
  readonly pid: number | undefined;
  readonly stdout: OutputStream | null;
  readonly stderr: OutputStream | null;
  postMessage(message: unknown): void;
  on(event: 'message', listener: (message: unknown) => void): this;
  on(event: 'exit', listener: (code: number) => void): this;
  kill(): boolean;
}

/** The part of Electron's utilityProcess module the launcher uses. */
export interface UtilityProcessModule {
  fork(
    modulePath: string,
    args?: string[],
    options?: { stdio?: 'pipe'; serviceName?: string; env?: NodeJS.ProcessEnv },
  ): UtilityChild;
}

/** Starts the bundled worker `entry`, named `serviceName` in the system's process list, per call. */
export function utilityProcessLauncher<ToWorker = HostMessage, FromWorker = WorkerMessage>(
  utility: UtilityProcessModule,
  entry: string,
  serviceName: string,
): (logFile?: string) => WorkerHandle<ToWorker, FromWorker> {
  return (logFile) => {
    const child = utility.fork(entry, [], { stdio: 'pipe', serviceName, env: process.env });
    const output = pipeWorkerOutput(child.stdout, child.stderr, logFile);
    let exited = false;
    const exitListeners: ((code: number | null, signal: string | null) => void)[] = [];
    child.on('exit', (code) => {
      if (exited) return;
      exited = true;
      output.endLog();
      // A utility process reports no signal; a kill shows as a non-zero code.
      for (const listener of exitListeners) listener(code, null);
    });
    return {
      pid: child.pid,
      send: (message) => {
        if (!exited) child.postMessage(message);
      },
      onMessage: (listener) => child.on('message', (m) => listener(m as FromWorker)),
      onExit: (listener) => exitListeners.push(listener),
      onStderr: output.onStderr,
      kill: () => {
        if (!exited) child.kill();
      },
    };
  };
}

/** The bundled worker entries (electron/build.ts) a launcher starts. */
export interface WorkerEntries {
  training: string;
  prediction: string;
}

/** createEngine's launchers, as the desktop app passes them. */
export interface WorkerLaunchers {
  launchWorker: WorkerLauncher;
  launchPrediction: PredictionLauncher;
}

/**
 * The launchers for the process the engine runs in: utility processes where Electron offers them, none
 * (child_process.fork, the engine's default) anywhere else.
 */
export function chooseWorkerLaunchers(
  electron: { utilityProcess?: UtilityProcessModule } | undefined,
  entries: WorkerEntries,
): WorkerLaunchers | undefined {
  const utility = electron?.utilityProcess;
  if (!utility) return undefined;
  return {
    launchWorker: utilityProcessLauncher(utility, entries.training, 'Emonas training worker'),
    launchPrediction: utilityProcessLauncher<PredictionJob, PredictionReport>(
      utility,
      entries.prediction,
      'Emonas prediction worker',
    ),
  };
}
