// Runs in: the renderer. The run a review was opened from (the dashboard's run): its Pareto front, kept
// fresh by the engine's generation events, offers the second candidates to compare with; and the candidate
// under review, or the model whose test evaluation is open, if any.
import type { ApiClient } from '../../../core/api/client.ts';
import type { FrontCandidate } from '../../../core/api/runs.ts';
import { TestEvaluationState } from '../final/test-evaluation.svelte.ts';
import { ReviewState } from './review.svelte.ts';

export class RunView {
  runId = $state<string | null>(null);
  front = $state.raw<FrontCandidate[]>([]);
  review = $state.raw<ReviewState | null>(null);
  test = $state.raw<TestEvaluationState | null>(null);

  constructor(private readonly client: ApiClient) {
    client.on('generation.completed', ({ runId }) => {
      if (runId === this.runId) void this.refresh();
    });
  }

  async open(runId: string): Promise<void> {
    this.closeReview();
    this.runId = runId;
    this.front = [];
    await this.refresh();
  }

  /** A failure leaves the last front: it only lists second candidates, and the review reports its own errors. */
  async refresh(): Promise<void> {
    const runId = this.runId;
    if (runId === null) return;
    const result = await this.client.call('run.get', { runId });
    if (runId === this.runId && result.ok) this.front = result.value.front;
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

  /** 'final' or a candidate id: that model on the run's test cases. */
  openTest(model: string): void {
    if (this.runId === null) return;
    this.closeReview();
    const test = new TestEvaluationState(this.client, this.runId, model);
    this.test = test;
    void test.load();
  }

  closeReview(): void {
    this.review?.close();
    this.review = null;
    this.test?.close();
    this.test = null;
  }
}
