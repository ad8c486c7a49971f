// Runs in: the engine. Answers a search's surrogate predictions in a helper process, so fitting the random
// forest (seconds for the paper preset's hundreds of candidates with ml-random-forest, refit for every
// screened child) never blocks the engine's thread: the progress display, the API and the training
// workers' messages carry on. Same code, same numbers as in the engine (IPC keeps doubles exact), so a
// run's journal is the same either way.
import { fork, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { EmonasError } from '../base/errors.ts';
import type { SurrogateAnswer, SurrogateHost } from '../runs/study.ts';
import type { PredictRequest } from '../search/protocol.ts';

const ENTRY = fileURLToPath(new URL('./search-surrogate-entry.ts', import.meta.url));
const TSX_LOADER = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;

export type SurrogateReply = { ok: true; answer: SurrogateAnswer } | { ok: false; message: string };

export class SurrogateProcess implements SurrogateHost {
  private child: ChildProcess | null = null;
  private pending: { resolve: (a: SurrogateAnswer) => void; reject: (e: Error) => void } | null = null;
  private queue: Promise<unknown> = Promise.resolve();

  /** One request at a time, in order: the process keeps the last fit, as the in-thread surrogate does. */
  predict(request: PredictRequest): Promise<SurrogateAnswer> {
    const next = this.queue.then(() => this.ask(request));
    this.queue = next.catch(() => undefined);
    return next;
  }

  close(): void {
    this.child?.kill('SIGKILL');
    this.child = null;
  }

  private ask(request: PredictRequest): Promise<SurrogateAnswer> {
    const child = this.start();
    return new Promise((resolve, reject) => {
      this.pending = { resolve, reject };
      child.send(request);
    });
  }

  private start(): ChildProcess {
    if (this.child) return this.child;
    const child = fork(ENTRY, [], {
      execArgv: ['--import', TSX_LOADER],
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
      serialization: 'advanced',
      // Its own process group, like the training workers: Ctrl-C stops the engine, not its helper.
      detached: true,
    });
    child.on('message', (m) => {
      const reply = m as SurrogateReply;
      const pending = this.pending;
      this.pending = null;
      if (reply.ok) pending?.resolve(reply.answer);
      else
        pending?.reject(new EmonasError('internal', `The surrogate could not be fitted: ${reply.message}`));
    });
    child.once('exit', (code, signal) => {
      if (this.child === child) this.child = null;
      const pending = this.pending;
      this.pending = null;
      pending?.reject(
        new EmonasError(
          'internal',
          `The surrogate's helper process ended (${signal ?? `code ${code}`}) before answering; resume the run.`,
        ),
      );
    });
    this.child = child;
    return child;
  }
}
