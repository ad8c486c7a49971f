// Runs in: the renderer. One run opened from the Searches page: its summary and Pareto front (kept fresh by
// the engine's generation events), and the candidate under review, if any.
import type { ApiClient } from '../../../core/api/client.ts';
import type { ErrorData } from '../../../core/api/envelope.ts';
import type { FrontCandidate, RunSummary } from '../../../core/api/runs.ts';
import { ReviewState } from './review.svelte.ts';

export class RunView {
  runId = $state<string | null>(null);
  summary = $state.raw<RunSummary | null>(null);
  front = $state.raw<FrontCandidate[]>([]);
  error = $state.raw<ErrorData | null>(null);
  review = $state.raw<ReviewState | null>(null);

  constructor(private readonly client: ApiClient) {
    client.on('generation.completed', ({ runId }) => {
      if (runId === this.runId) void this.refresh();
    });
  }

  async open(runId: string): Promise<void> {
    this.closeReview();
    this.runId = runId;
    this.summary = null;
    this.front = [];
    await this.refresh();
  }

  async refresh(): Promise<void> {
    const runId = this.runId;
    if (runId === null) return;
    const result = await this.client.call('run.get', { runId });
    if (runId !== this.runId) return;
    if (result.ok) {
      this.summary = result.value.summary;
      this.front = result.value.front;
      this.error = null;
    } else {
      this.error = result.error;
    }
  }

  close(): void {
    this.closeReview();
    this.runId = null;
  }

  openReview(candidateId: string): void {
    if (this.runId === null) return;
    this.closeReview();
    const review = new ReviewState(this.client, this.runId, candidateId);
    this.review = review;
    void review.load();
  }

  closeReview(): void {
    this.review?.close();
    this.review = null;
  }
}
