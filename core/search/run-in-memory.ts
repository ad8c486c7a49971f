// Runs in: any process (tests, benchmarks). Drives a strategy to its end with a synchronous evaluator and
// no journal: the smallest possible "study", for problems whose evaluation costs nothing.
import { toErrorData } from '../base/errors.ts';
import { sanitiseOutcome } from './archive.ts';
import type { CandidateSpec, EvaluationOutcome, SearchStrategy } from './protocol.ts';
import type { Surrogate } from './surrogate.ts';

export type SyncEvaluator = (spec: CandidateSpec) => EvaluationOutcome;

/** Runs until the strategy is done; returns the log records it produced. An evaluator that throws fails that candidate. */
export function runInMemory(
  strategy: SearchStrategy,
  evaluate: SyncEvaluator,
  surrogate: Surrogate,
): Record<string, unknown>[] {
  const logs: Record<string, unknown>[] = [];
  for (let request = strategy.ask(); request.kind !== 'done'; request = strategy.ask()) {
    if (request.kind === 'evaluate') {
      const outcomes: Record<string, EvaluationOutcome> = {};
      for (const spec of request.candidates) {
        try {
          outcomes[spec.id] = sanitiseOutcome(evaluate(spec));
        } catch (err) {
          const data = toErrorData(err);
          outcomes[spec.id] = { status: 'failed', code: data.code, reason: data.message };
        }
      }
      strategy.tell({ kind: 'evaluated', outcomes });
    } else if (request.kind === 'predict') {
      strategy.tell({ kind: 'predicted', ...surrogate.predict(request) });
    } else {
      logs.push(request.record);
      strategy.tell({ kind: 'ack' });
    }
  }
  return logs;
}
