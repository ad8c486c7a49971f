// Runs in: the renderer. A run's model (the final model or a candidate) measured on the test cases its
// search set aside: predicting them on first open with progress, the per-case table (worst first, sortable
// like the review's), and the chosen case in the viewer as ground truth | prediction | error map. Nothing
// here compares models by these numbers: the test split reports, it never chooses.
import type { ApiClient } from '../../../core/api/client.ts';
import type { ErrorData } from '../../../core/api/envelope.ts';
import type { TestEvaluation } from '../../../core/api/finish.ts';
import type { ReviewCase } from '../../../core/api/review.ts';
import { sortCases, WORST_FIRST, type CaseTable, type SortOrder } from '../review/review-model.ts';
import { asLabels, errorPane, type ErrorPane, type PaneContent } from '../viewer/viewer-model.ts';
import { ViewerState } from '../viewer/viewer-state.svelte.ts';

/** 'final' reads as the final model, anything else is a candidate's id. */
export function modelTitle(model: string): string {
  return model === 'final' ? 'the final model' : `candidate ${model}`;
}

export class TestEvaluationState implements CaseTable {
  evaluation = $state.raw<TestEvaluation | null>(null);
  progress = $state.raw<{ done: number; total: number } | null>(null);
  loading = $state(false);
  error = $state.raw<ErrorData | null>(null);
  order = $state.raw<SortOrder>(WORST_FIRST);

  caseId = $state<string | null>(null);
  current = $state.raw<ReviewCase | null>(null);
  errors = $state.raw<ErrorPane | null>(null);
  viewer = $state.raw<ViewerState | null>(null);
  caseLoading = $state(false);
  caseError = $state.raw<ErrorData | null>(null);

  private readonly unsubscribe: () => void;

  constructor(
    private readonly client: ApiClient,
    readonly runId: string,
    readonly model: string,
  ) {
    this.unsubscribe = client.on('test.progressed', (p) => {
      if (p.runId === runId && p.model === model) this.progress = { done: p.done, total: p.total };
    });
  }

  get structures(): string[] {
    return Object.keys(this.evaluation?.structures ?? {});
  }

  get rows() {
    return this.evaluation ? sortCases(this.evaluation.cases, this.order) : [];
  }

  /** Ground truth | prediction | error map of the open case. */
  get panes(): PaneContent[] {
    const c = this.current;
    if (!c || !this.errors) return [];
    return [
      { id: 'truth', kind: 'truth', title: 'Ground truth', labels: asLabels(c.label.data) },
      {
        id: 'prediction',
        kind: 'prediction',
        title: `Prediction of ${modelTitle(this.model)}`,
        labels: asLabels(c.prediction.data),
      },
      { id: 'errors', kind: 'errors', title: 'Errors of the prediction', labels: this.errors.labels },
    ];
  }

  close(): void {
    this.unsubscribe();
  }

  async load(): Promise<void> {
    this.loading = true;
    this.progress = null;
    const result = await this.client.call('test.evaluate', { runId: this.runId, model: this.model });
    this.loading = false;
    if (!result.ok) {
      this.error = result.error;
      return;
    }
    this.error = null;
    this.evaluation = result.value;
    const worst = this.rows[0];
    if (worst && this.caseId === null) await this.open(worst.id);
  }

  async open(caseId: string): Promise<void> {
    this.caseId = caseId;
    this.caseLoading = true;
    const result = await this.client.call('test.case', { runId: this.runId, model: this.model, caseId });
    if (this.caseId !== caseId) return;
    this.caseLoading = false;
    if (!result.ok) {
      this.caseError = result.error;
      return;
    }
    this.caseError = null;
    const c = result.value;
    this.errors = errorPane(asLabels(c.label.data), asLabels(c.prediction.data), c.image.shape);
    this.current = c;
    this.viewer = new ViewerState(c.image, this.errors.worst, this.errors.start);
  }
}
