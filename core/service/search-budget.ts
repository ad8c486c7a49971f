// Runs in: the engine. A search under a wall-clock budget (the demo's): when the budget runs out it is
// stopped at a clean point, as a pause stops it, with a reason that has the study record in the run folder
// that its budget stopped it (core/runs/budget-stop.ts), so the run is listed as stopped at its budget, not
// as paused by someone.
// Resuming it (`emonas resume`, the app's Resume) continues it like any stopped search.
import { budgetStopReason, isBudgetStop } from '../runs/budget-stop.ts';
import type { SearchDeps, SearchSummary } from './search.ts';

export interface BudgetedSearch {
  search: SearchSummary;
  /** The budget, not `deps.signal`, stopped it before its end. */
  stoppedByBudget: boolean;
}

/**
 * Runs `search` (a startSearch or resume) for at most `minutes`; `deps.signal` still stops it at once, and
 * such a stop is a pause, not the budget's.
 */
export async function searchWithinBudget(
  minutes: number,
  search: (deps: SearchDeps) => Promise<SearchSummary>,
  deps: SearchDeps = {},
): Promise<BudgetedSearch> {
  const budget = new AbortController();
  // setTimeout fires at once past 2^31 - 1 ms, so a budget beyond 24 days is capped there.
  const timer = setTimeout(
    () => budget.abort(budgetStopReason(minutes)),
    Math.min(minutes * 60_000, 2 ** 31 - 1),
  );
  const stop = (): void => budget.abort();
  const user = deps.signal;
  if (user?.aborted) stop();
  user?.addEventListener('abort', stop, { once: true });
  let summary: SearchSummary;
  try {
    summary = await search({ ...deps, signal: budget.signal });
  } finally {
    clearTimeout(timer);
    user?.removeEventListener('abort', stop);
  }
  // The study recorded the stop in the run folder itself, before it released the run.
  const stoppedByBudget = summary.status === 'stopped' && isBudgetStop(budget.signal.reason);
  return { search: summary, stoppedByBudget };
}
