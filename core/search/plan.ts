// Runs in: the engine. Arithmetic on a search configuration that the engine, the command line and the
// wizard's estimate share: how many candidates a generation and the whole search hold, and the evaluation
// order and surrogate refit a configuration gets for an executor with several slots.
import type { SearchConfig } from './config.ts';

/** Candidates bred per generation: the population, or the random search's batch. */
export function generationSize(search: SearchConfig): number {
  return search.algorithm === 'random' ? search.batch : search.population;
}

/** Candidates a configuration plans for: one generation's worth per generation, capped by maxEvaluations. */
export function plannedEvaluations(search: SearchConfig): number {
  const planned = generationSize(search) * search.generations;
  return search.maxEvaluations === null ? planned : Math.min(planned, search.maxEvaluations);
}

/**
 * With several slots, SaMEA evaluates a generation's children as one batch and refits its surrogate once per
 * generation, unless the user chose the order or the refit. Applied to the configuration as given, before
 * it is resolved, so run.json stores the choice and a resumed run keeps it whatever executor it gets.
 */
export function withEvaluationOrder(config: unknown, slots: number): unknown {
  if (slots <= 1 || config === null || typeof config !== 'object' || Array.isArray(config)) return config;
  const c = config as Record<string, unknown>;
  if ((c.algorithm ?? 'samea') !== 'samea') return config;
  const surrogate = c.surrogate === undefined ? {} : c.surrogate;
  if (surrogate === null || typeof surrogate !== 'object' || Array.isArray(surrogate)) return config;
  const order = c.evaluationOrder ?? 'generation';
  const refitChosen = 'refit' in surrogate;
  if (order !== 'generation' || (refitChosen && 'evaluationOrder' in c)) return config;
  return {
    ...c,
    evaluationOrder: order,
    ...(!refitChosen && { surrogate: { ...surrogate, refit: 'per-generation' } }),
  };
}

/** How a run evaluates its candidates, as run.json and `emonas search` state it. */
export interface EvaluationPlan {
  /** Executor slots: candidates evaluated at once. */
  slots: number;
  /** SaMEA's evaluationOrder; the baselines always evaluate a generation as one batch. */
  order: 'sequential' | 'generation';
  /** SaMEA's surrogate refit; null without a surrogate. */
  surrogateRefit: 'per-child' | 'per-generation' | null;
  /** The same in words. */
  description: string;
}

export function evaluationPlan(search: SearchConfig, slots: number): EvaluationPlan {
  const at = slots > 1 ? `up to ${slots} at once` : 'one at a time';
  if (search.algorithm !== 'samea') {
    return {
      slots,
      order: 'generation',
      surrogateRefit: null,
      description: `Each generation's candidates are drawn together and evaluated ${at}.`,
    };
  }
  const refit = search.surrogate.enabled ? search.surrogate.refit : null;
  const order =
    search.evaluationOrder === 'sequential'
      ? "Each child is bred after the previous child's replacement and evaluated on its own (the reference's order)."
      : `A generation's children are bred from the population at its start, evaluated ${at} and replace in child order.`;
  const surrogate =
    refit === null
      ? ' No surrogate.'
      : refit === 'per-generation'
        ? ' The surrogate is refitted once per generation.'
        : search.evaluationOrder === 'generation'
          ? " The surrogate is refitted after every child's result (the reference), so a screened generation's children are trained one at a time, in child order."
          : ' The surrogate is refitted for every child (the reference).';
  return { slots, order: search.evaluationOrder, surrogateRefit: refit, description: order + surrogate };
}

/**
 * The configuration a run's journal was made with. Runs made before run.json stated its `evaluation`
 * refitted once per generation whenever they evaluated by generation, whatever their surrogate.refit said.
 */
export function searchAsRan(search: SearchConfig, evaluation: EvaluationPlan | undefined): SearchConfig {
  if (evaluation !== undefined || search.algorithm !== 'samea' || search.evaluationOrder !== 'generation') {
    return search;
  }
  return { ...search, surrogate: { ...search.surrogate, refit: 'per-generation' } };
}
