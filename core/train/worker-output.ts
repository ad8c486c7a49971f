// Runs in: the engine, or the Electron main process. The output wiring of a training worker, whichever
// way it was started (child_process.fork or Electron's utilityProcess): stdout and stderr appended to its
// log file, and stderr's text handed to listeners, which keep its end to explain a crash.
import { createWriteStream } from 'node:fs';

/** A child's piped output, as far as the host reads it (a Node stream or Electron's). */
export interface OutputStream {
  on(event: 'data', listener: (chunk: Buffer) => void): unknown;
}

export interface WorkerOutput {
  onStderr(listener: (text: string) => void): void;
  /** Closes the log file once the worker has ended. */
  endLog(): void;
}

export function pipeWorkerOutput(
  stdout: OutputStream | null | undefined,
  stderr: OutputStream | null | undefined,
  logFile: string | undefined,
): WorkerOutput {
  const log = logFile ? createWriteStream(logFile, { flags: 'a' }) : undefined;
  // An unwritable log must not take the process down; the crash reason still comes from the stderr tail.
  log?.on('error', () => undefined);
  stdout?.on('data', (chunk: Buffer) => log?.write(chunk));
  const listeners: ((text: string) => void)[] = [];
  stderr?.on('data', (chunk: Buffer) => {
    log?.write(chunk);
    for (const listener of listeners) listener(chunk.toString('utf8'));
  });
  return {
    onStderr: (listener) => {
      listeners.push(listener);
    },
    endLog: () => log?.end(),
  };
}
