// Runs in: the renderer. A run's model (the final model or a candidate) measured on the test cases its
// search set aside: predicting them on first open with progress, the per-case table (worst first, sortable
// like the review's), and the chosen case in the viewer as ground truth | prediction | error map. Nothing
// here compares models by these numbers: the test split reports, it never chooses.
import type { ApiClient } from '../../../core/api/client.ts';
import type { TestEvaluation } from '../../../core/api/finish.ts';
import { CaseReviewState } from '../review/case-review.svelte.ts';

/** 'final' reads as the final model, anything else is a candidate's id. */
export function modelTitle(model: string): string {
  return model === 'final' ? 'the final model' : `candidate ${model}`;
}

export class TestEvaluationState extends CaseReviewState<TestEvaluation> {
  constructor(
    private readonly client: ApiClient,
    readonly runId: string,
    readonly model: string,
  ) {
    super((report) =>
      client.on('test.progressed', (p) => {
        if (p.runId === runId && p.model === model) report(p);
      }),
    );
  }

  protected get predictedBy(): string {
    return modelTitle(this.model);
  }

  protected fetchTable() {
    return this.client.call('test.evaluate', { runId: this.runId, model: this.model });
  }

  protected fetchCase(caseId: string) {
    return this.client.call('test.case', { runId: this.runId, model: this.model, caseId });
  }
}
