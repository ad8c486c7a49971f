// Evaluators that misbehave the way a training process can, for the worker pool's tests: loaded in the
// pool's worker processes by module path and export name.
import type { EvaluationTask } from '../../../core/executors/executor.ts';
import type { EvaluationOutcome } from '../../../core/search/protocol.ts';

/** Dies as a crashing native library would, with a last word on stderr. */
export async function crash(task: EvaluationTask): Promise<EvaluationOutcome> {
  process.stderr.write(`segfault-like failure in ${task.id}\n`);
  process.exit(3);
}

/** Trains forever, so a test can kill it. */
export async function forever(_task: EvaluationTask, signal: AbortSignal): Promise<EvaluationOutcome> {
  await new Promise((resolve) => signal.addEventListener('abort', resolve));
  return { status: 'failed', code: 'cancelled', reason: 'stopped' };
}
