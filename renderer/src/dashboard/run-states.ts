// Runs in: the renderer. A run's state as the user reads it, and the states Resume continues.
import { budgetStopText, type RunState, type RunSummary } from '../../../core/api/runs.ts';

const STATE_NAMES: Record<RunState, string> = {
  running: 'running',
  stopping: 'pausing…',
  paused: 'paused',
  'stopped-at-budget': 'stopped at its time budget',
  interrupted: 'interrupted',
  cancelled: 'cancelled',
  finished: 'finished',
  failed: 'stopped by an error',
};

/** The state's name; a run its time budget stopped says which budget ("stopped at its 9-minute time budget"). */
export function stateLabel(run: Pick<RunSummary, 'state' | 'stoppedAtBudget'>): string {
  if (run.state === 'stopped-at-budget' && run.stoppedAtBudget)
    return budgetStopText(run.stoppedAtBudget.minutes);
  return STATE_NAMES[run.state];
}

/** A run stopped part-way, by whatever, that Resume continues. */
export function resumable(state: RunState): boolean {
  return state === 'paused' || state === 'stopped-at-budget' || state === 'interrupted' || state === 'failed';
}
