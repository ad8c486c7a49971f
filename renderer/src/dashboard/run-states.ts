// Runs in: the renderer. A run's state as the user reads it.
import type { RunState } from '../../../core/api/runs.ts';

export const STATE_NAMES: Record<RunState, string> = {
  running: 'running',
  stopping: 'pausing…',
  paused: 'paused',
  interrupted: 'interrupted',
  cancelled: 'cancelled',
  finished: 'finished',
  failed: 'stopped by an error',
};
