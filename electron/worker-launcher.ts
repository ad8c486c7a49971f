// Runs in: the Electron main process. Starts each candidate's training worker in an Electron utility
// process (utilityProcess.fork), speaking the same messages (core/train/protocol.ts) as the
// child_process.fork workers of `emonas serve`. The engine takes the launcher injected (createEngine's
// launchWorker); without Electron's utilityProcess, none is chosen and the engine forks as it does headless.
import type { HostMessage, WorkerHandle, WorkerMessage } from '../core/train/protocol.ts';
import type { WorkerLauncher } from '../core/service/search-estimate.ts';
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

export function utilityProcessLauncher(utility: UtilityProcessModule, entry: string): WorkerLauncher {
  return (logFile?: string): WorkerHandle => {
    const child = utility.fork(entry, [], {
      stdio: 'pipe',
      serviceName: 'Emonas training worker',
      env: process.env,
    });
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
      send: (message: HostMessage) => {
        if (!exited) child.postMessage(message);
      },
      onMessage: (listener) => child.on('message', (m) => listener(m as WorkerMessage)),
      onExit: (listener) => exitListeners.push(listener),
      onStderr: output.onStderr,
      kill: () => {
        if (!exited) child.kill();
      },
    };
  };
}

/**
 * The launcher for the process the engine runs in: utility processes where Electron offers them, none
 * (child_process.fork, the engine's default) anywhere else.
 */
export function chooseWorkerLauncher(
  electron: { utilityProcess?: UtilityProcessModule } | undefined,
  entry: string,
): WorkerLauncher | undefined {
  return electron?.utilityProcess ? utilityProcessLauncher(electron.utilityProcess, entry) : undefined;
}
