// Runs in: the renderer. A run's live dashboard: its progress, candidates, generations and the chosen
// candidate's learning curves. The engine's events are throttled (latest wins), so they are only a cue:
// each one, every reconnection and a slow timer while the run is running fetch the run's whole state with
// run.progress, and nothing shown depends on having seen every event. The run's final training
// (renderer/src/final) is opened and fetched again with it.
import type { ApiClient } from '../../../core/api/client.ts';
import type { ErrorData } from '../../../core/api/envelope.ts';
import type { CandidateRow, EpochPoint, RunProgress } from '../../../core/api/runs.ts';
import { FinalTraining } from '../final/final-training.svelte.ts';

export type SortKey = 'id' | 'generation' | 'status' | 'f1' | 'params' | 'valLoss' | 'seconds';

/** While a run is running, its state is fetched at least this often even without events. */
const POLL_MS = 5000;
/** Events that arrive together cause one fetch. */
const COALESCE_MS = 150;

export interface Eta {
  done: number;
  total: number;
  /** Seconds left, or null until a candidate has been timed. */
  seconds: number | null;
}

function compare(a: CandidateRow, b: CandidateRow, key: SortKey): number {
  const x = a[key];
  const y = b[key];
  // Empty values (not trained yet) sort last whichever the direction.
  if (x === null && y === null) return 0;
  if (x === null) return 1;
  if (y === null) return -1;
  return typeof x === 'number' && typeof y === 'number' ? x - y : String(x).localeCompare(String(y));
}

function isDisconnection(error: ErrorData): boolean {
  return (error.details as { disconnected?: unknown } | undefined)?.disconnected === true;
}

export function sortCandidates(rows: CandidateRow[], key: SortKey, ascending: boolean): CandidateRow[] {
  return [...rows].sort((a, b) => {
    const c = compare(a, b, key);
    const nullish = a[key] === null || b[key] === null;
    return (ascending || nullish ? c : -c) || a.id.localeCompare(b.id, 'en', { numeric: true });
  });
}

/** Candidates finished out of those planned, and the time left at the mean pace so far. */
export function etaOf(progress: RunProgress): Eta {
  const done = progress.candidates.filter((c) => c.status === 'completed' || c.status === 'failed').length;
  const total = Math.max(progress.plan.expectedCandidates, progress.candidates.length, done);
  const mean = progress.meanCandidateSeconds;
  const seconds =
    mean === null ? null : Math.round(Math.ceil((total - done) / Math.max(1, progress.plan.workers)) * mean);
  return { done, total, seconds };
}

export class DashboardState {
  runId = $state<string | null>(null);
  progress = $state.raw<RunProgress | null>(null);
  error = $state.raw<ErrorData | null>(null);
  selected = $state<string | null>(null);
  curves = $state.raw<EpochPoint[]>([]);
  sortKey = $state<SortKey>('generation');
  ascending = $state(true);
  /** An action under way (pause, resume, cancel), to disable the buttons meanwhile. */
  busy = $state(false);
  confirmingCancel = $state(false);
  readonly final: FinalTraining;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private poller: ReturnType<typeof setInterval> | undefined;
  private fetching: Promise<void> | null = null;
  private again = false;

  constructor(private readonly client: ApiClient) {
    this.final = new FinalTraining(client);
    const cue = (runId: string) => {
      if (runId === this.runId) this.soon();
    };
    client.on('candidate.started', ({ runId }) => cue(runId));
    client.on('candidate.completed', ({ runId }) => cue(runId));
    client.on('generation.completed', ({ runId }) => cue(runId));
    client.on('run.started', ({ run }) => cue(run.runId));
    client.on('run.paused', ({ run }) => cue(run.runId));
    client.on('run.finished', ({ run }) => cue(run.runId));
    client.on('run.failed', ({ run, error }) => {
      if (run.runId !== this.runId) return;
      this.error = error;
      this.soon();
    });
  }

  get rows(): CandidateRow[] {
    return sortCandidates(this.progress?.candidates ?? [], this.sortKey, this.ascending);
  }

  get candidate(): CandidateRow | null {
    return this.progress?.candidates.find((c) => c.id === this.selected) ?? null;
  }

  get eta(): Eta | null {
    return this.progress ? etaOf(this.progress) : null;
  }

  async open(runId: string): Promise<void> {
    this.runId = runId;
    this.progress = null;
    this.selected = null;
    this.curves = [];
    this.error = null;
    this.confirmingCancel = false;
    clearInterval(this.poller);
    this.poller = setInterval(() => {
      if (this.progress?.summary.state === 'running' || this.progress?.summary.state === 'stopping')
        void this.refresh();
    }, POLL_MS);
    await Promise.all([this.refresh(), this.final.open(runId)]);
  }

  close(): void {
    clearInterval(this.poller);
    clearTimeout(this.timer);
    this.runId = null;
    this.progress = null;
    this.final.close();
  }

  /** After the connection came back: the run and its final training as the engine has them now. */
  async reconnected(): Promise<void> {
    await Promise.all([this.refresh(), this.final.refresh()]);
  }

  /** Fetches the run's state; calls made while one is in flight cause exactly one more fetch after it. */
  refresh(): Promise<void> {
    if (this.fetching) {
      this.again = true;
      return this.fetching;
    }
    this.fetching = (async () => {
      do {
        this.again = false;
        await this.fetchOnce();
      } while (this.again);
      this.fetching = null;
    })();
    return this.fetching;
  }

  sortBy(key: SortKey): void {
    if (this.sortKey === key) this.ascending = !this.ascending;
    else {
      this.sortKey = key;
      this.ascending = true;
    }
  }

  async select(candidateId: string): Promise<void> {
    this.selected = candidateId;
    this.curves = [];
    await this.loadCurves();
  }

  async pause(): Promise<void> {
    await this.act('search.pause');
  }

  async resume(): Promise<void> {
    this.error = null;
    await this.act('search.resume');
  }

  async cancel(): Promise<void> {
    this.confirmingCancel = false;
    await this.act('search.cancel');
  }

  private async act(method: 'search.pause' | 'search.resume' | 'search.cancel'): Promise<void> {
    const runId = this.runId;
    if (runId === null) return;
    this.busy = true;
    const result = await this.client.call(method, { runId });
    this.busy = false;
    if (!result.ok) this.error = result.error;
    await this.refresh();
  }

  private soon(): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.refresh(), COALESCE_MS);
  }

  private async fetchOnce(): Promise<void> {
    const runId = this.runId;
    if (runId === null) return;
    const result = await this.client.call('run.progress', { runId });
    if (runId !== this.runId) return;
    if (!result.ok) {
      // A lost connection is the app's notice to give (with reconnect), not this run's error.
      if (!isDisconnection(result.error)) this.error = result.error;
      return;
    }
    const previous = this.progress;
    this.progress = result.value;
    if (result.value.summary.state !== 'failed' && previous?.summary.state === 'failed') this.error = null;
    const chosen = this.candidate;
    // The chosen candidate's curves grow while it trains, and are complete once it has finished.
    if (
      chosen &&
      (chosen.status === 'training' ||
        previous?.candidates.find((c) => c.id === chosen.id)?.status !== chosen.status)
    ) {
      await this.loadCurves();
    }
  }

  private async loadCurves(): Promise<void> {
    const runId = this.runId;
    const candidateId = this.selected;
    if (runId === null || candidateId === null) return;
    const result = await this.client.call('candidate.curves', { runId, candidateId });
    if (runId !== this.runId || candidateId !== this.selected) return;
    if (result.ok) this.curves = result.value;
    else this.error = result.error;
  }
}
