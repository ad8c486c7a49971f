// Runs in: the engine (or a test). What every executor (in-process, worker pool, Slurm) does alike with
// the results it has: holds them until they are collected, each once, and wakes whoever waits for one.
import type { EvaluationOutcome } from '../search/protocol.ts';
import { CANCELLED, type TaskResult } from './executor.ts';

export class FinishedResults {
  private readonly results: TaskResult[] = [];
  private readonly waiters = new Set<() => void>();

  add(result: TaskResult): void {
    this.results.push(result);
    for (const wake of [...this.waiters]) wake();
  }

  ids(): string[] {
    return this.results.map((r) => r.id);
  }

  states(): { id: string; state: 'finished' }[] {
    return this.results.map((r) => ({ id: r.id, state: 'finished' as const }));
  }

  /** Hands out the results added since the last call. */
  collect(): TaskResult[] {
    return this.results.splice(0);
  }

  /** Resolves when a result is ready to collect, or after timeoutMs, whichever comes first. */
  wait(timeoutMs: number): Promise<void> {
    if (this.results.length > 0) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.waiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, timeoutMs);
      this.waiters.add(done);
    });
  }
}

/** The outcome a task stopped by cancel() is collected with. */
export function cancelledOutcome(): EvaluationOutcome {
  return { status: 'failed', code: CANCELLED, reason: 'The evaluation was cancelled before it finished.' };
}
