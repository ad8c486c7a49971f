// Runs in: the renderer. The Searches page's data: the engine's runs and their states with each run's final
// training (final.list, so one interrupted by an engine restart shows as such), fetched again on the
// engine's run, generation, candidate and final events (which are throttled, so only a cue), and the pause,
// resume and cancel actions.
import type { ApiClient } from '../../../core/api/client.ts';
import type { ErrorData } from '../../../core/api/envelope.ts';
import type { FinalState } from '../../../core/api/finish.ts';
import type { RunSummary } from '../../../core/api/runs.ts';

export class RunsState {
  runs = $state.raw<RunSummary[]>([]);
  /** Each run's final training or final model, by run id; a run without either is absent. */
  finals = $state.raw<Record<string, FinalState>>({});
  loaded = $state(false);
  error = $state.raw<ErrorData | null>(null);
  /** The search wizard shown in place of the list. */
  wizardOpen = $state(false);
  /** Why each run that failed in this session stopped, by run id. */
  failures = $state.raw<Record<string, ErrorData>>({});

  constructor(private readonly client: ApiClient) {
    const refresh = () => void this.refresh();
    client.on('run.started', refresh);
    client.on('run.paused', refresh);
    client.on('run.finished', refresh);
    client.on('generation.completed', refresh);
    client.on('candidate.completed', refresh);
    client.on('final.started', refresh);
    client.on('final.ended', refresh);
    client.on('run.failed', ({ run, error }) => {
      this.failures = { ...this.failures, [run.runId]: error };
      refresh();
    });
  }

  async refresh(): Promise<void> {
    const [result, finals] = await Promise.all([
      this.client.call('run.list', {}),
      this.client.call('final.list', {}),
    ]);
    this.loaded = true;
    if (finals.ok) this.finals = Object.fromEntries(finals.value.map((f) => [f.runId, f.state]));
    if (result.ok) {
      this.runs = result.value;
      this.error = finals.ok ? null : finals.error;
    } else {
      this.error = result.error;
    }
  }

  async pause(runId: string): Promise<void> {
    const result = await this.client.call('search.pause', { runId });
    if (!result.ok) this.error = result.error;
    await this.refresh();
  }

  async cancel(runId: string): Promise<void> {
    const result = await this.client.call('search.cancel', { runId });
    if (!result.ok) this.error = result.error;
    await this.refresh();
  }

  async resume(runId: string): Promise<void> {
    const result = await this.client.call('search.resume', { runId });
    if (!result.ok) this.error = result.error;
    await this.refresh();
  }
}
