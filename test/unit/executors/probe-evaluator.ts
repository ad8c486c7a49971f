// The evaluator every executor runs under the contract suite (contract.ts). A task says how to behave in
// its payload, so an executor that evaluates in another process (worker pool, Slurm) can load this module
// there and behave identically: {probe: {delayMs, behaviour}}.
import { setTimeout as sleep } from 'node:timers/promises';
import type { EvaluationTask } from '../../../core/executors/executor.ts';
import type { EvaluationOutcome } from '../../../core/search/protocol.ts';

export type ProbeBehaviour = 'ok' | 'throw' | 'nan' | 'hang';

export interface ProbePayload {
  probe: { delayMs: number; behaviour: ProbeBehaviour };
}

/** The f1 a probe task reports: a function of its id, so results can be matched to tasks. */
export function probeF1(id: string): number {
  let h = 0;
  for (const c of id) h = (h * 31 + c.charCodeAt(0)) % 1000;
  return 0.1 + h / 2000;
}

export async function probeEvaluate(task: EvaluationTask, signal: AbortSignal): Promise<EvaluationOutcome> {
  const { delayMs, behaviour } = (task.payload as ProbePayload).probe;
  if (behaviour === 'hang') {
    await new Promise((_, reject) => signal.addEventListener('abort', () => reject(new Error('aborted'))));
  }
  await sleep(delayMs, undefined, { signal });
  if (behaviour === 'throw') throw new Error(`probe failure in ${task.id}`);
  if (behaviour === 'nan') return { status: 'completed', f1: Number.NaN };
  return { status: 'completed', f1: probeF1(task.id) };
}
