// Shared by the search tests: the formula problem with the real parameter counter, run in memory.
import { countParams } from '../../../core/nn/param-count.ts';
import { resolveSearchConfig, type SearchConfig } from '../../../core/search/config.ts';
import { createStrategy } from '../../../core/search/create-strategy.ts';
import { formulaEvaluator, type FormulaProblemConfig } from '../../../core/search/formula-problem.ts';
import { referenceNormalisation } from '../../../core/search/normalisation.ts';
import type {
  CandidateSpec,
  EvaluationOutcome,
  SearchStrategy,
  StrategyRequest,
} from '../../../core/search/protocol.ts';
import { runInMemory } from '../../../core/search/run-in-memory.ts';
import { RandomForestSurrogate } from '../../../core/search/surrogate.ts';
import type { StrategyContext } from '../../../core/search/strategy-kit.ts';
import { cachedParamCounter } from '../../../core/searchspace/param-counter.ts';
import type { SizeCheck } from '../../../core/searchspace/size-bound.ts';

export const paramCounter = cachedParamCounter((g) => countParams(g, { inChannels: 1, classes: 1 }));
export const context: StrategyContext = {
  paramCounter,
  normalisation: referenceNormalisation(paramCounter, 0.25, 0.25),
};

/**
 * A small SaMEA that reaches its exploitation phase in a fraction of a second: 30 trees instead of 100
 * only to keep the forest fits cheap in tests; the rules under test do not depend on the tree count.
 */
export const SMALL_SAMEA = {
  population: 6,
  generations: 8,
  learningGenerations: 3,
  surrogate: { trees: 30, refit: 'per-generation' },
};

export interface Trace {
  strategy: SearchStrategy;
  config: SearchConfig;
  logs: Record<string, unknown>[];
  requests: StrategyRequest[];
}

export function runFormula(
  overrides: Record<string, unknown>,
  options: {
    formula?: Partial<FormulaProblemConfig>;
    evaluate?: (spec: CandidateSpec) => EvaluationOutcome;
    /** The search's size bound. */
    sizeCheck?: SizeCheck;
  } = {},
): Trace {
  const config = resolveSearchConfig(overrides);
  const strategy = createStrategy(config, { ...context, sizeCheck: options.sizeCheck ?? null });
  const evaluate =
    options.evaluate ?? formulaEvaluator({ noise: 0, noiseSeed: 0, divergence: false, ...options.formula });
  const requests: StrategyRequest[] = [];
  const recording: SearchStrategy = {
    ...strategy,
    ask: () => {
      const request = strategy.ask();
      if (requests[requests.length - 1] !== request) requests.push(request);
      return request;
    },
  };
  const logs = runInMemory(recording, evaluate, new RandomForestSurrogate());
  return { strategy, config, logs, requests };
}
