// Runs in: the renderer. What a candidate's validation review and a model's test evaluation share: the
// per-case table the engine measures on first open (with progress), its order (worst first), and the chosen
// case in the viewer as ground truth | prediction | a third pane. A subclass names the engine calls and the
// third pane.
import type { ErrorData, Result } from '../../../core/api/envelope.ts';
import type { ReviewCase, ReviewedCase, ReviewProblem } from '../../../core/api/review.ts';
import { LatestRequest } from '../state/latest-request.svelte.ts';
import { asLabels, errorPane, type ErrorPane, type PaneContent } from '../viewer/viewer-model.ts';
import { ViewerState } from '../viewer/viewer-state.svelte.ts';
import { sortCases, WORST_FIRST, type CaseTable, type SortOrder } from './review-model.ts';

/** What a review and a test evaluation both measured. */
export interface MeasuredCases {
  structures: Record<string, number>;
  cases: ReviewedCase[];
  problems: ReviewProblem[];
}

export interface Progress {
  done: number;
  total: number;
}

export abstract class CaseReviewState<T extends MeasuredCases> implements CaseTable {
  measured = $state.raw<T | null>(null);
  progress = $state.raw<Progress | null>(null);
  loading = $state(false);
  error = $state.raw<ErrorData | null>(null);
  order = $state.raw<SortOrder>(WORST_FIRST);

  current = $state.raw<ReviewCase | null>(null);
  errors = $state.raw<ErrorPane | null>(null);
  viewer = $state.raw<ViewerState | null>(null);

  /** The case asked for last; `current` is the last one read. */
  private readonly asked = new LatestRequest();
  private readonly unsubscribe: () => void;

  /** `listen` subscribes to the engine's progress events of this table and returns the unsubscribe. */
  constructor(listen: (report: (p: Progress) => void) => () => void) {
    this.unsubscribe = listen((p) => {
      this.progress = { done: p.done, total: p.total };
    });
  }

  /** Who predicted the middle pane, as its title says it. */
  protected abstract get predictedBy(): string;
  protected abstract fetchTable(): Promise<Result<T>>;
  protected abstract fetchCase(caseId: string): Promise<Result<ReviewCase>>;

  /** After a case has opened in the viewer. */
  protected async opened(_c: ReviewCase, _caseId: string): Promise<void> {}

  /** The third pane of the open case: its error map unless a subclass offers more. */
  protected thirdPane(): PaneContent | null {
    return this.errorsPane();
  }

  protected errorsPane(): PaneContent | null {
    if (!this.errors) return null;
    return { id: 'errors', kind: 'errors', title: 'Errors of the prediction', labels: this.errors.labels };
  }

  get caseId(): string | null {
    return this.asked.key;
  }

  get caseLoading(): boolean {
    return this.asked.loading;
  }

  get caseError(): ErrorData | null {
    return this.asked.error;
  }

  get structures(): string[] {
    return Object.keys(this.measured?.structures ?? {});
  }

  get rows(): ReviewedCase[] {
    return this.measured ? sortCases(this.measured.cases, this.order) : [];
  }

  /** Ground truth | prediction | the third pane of the open case. */
  get panes(): PaneContent[] {
    const c = this.current;
    if (!c) return [];
    const third = this.thirdPane();
    return [
      { id: 'truth', kind: 'truth', title: 'Ground truth', labels: asLabels(c.label.data) },
      {
        id: 'prediction',
        kind: 'prediction',
        title: `Prediction of ${this.predictedBy}`,
        labels: asLabels(c.prediction.data),
      },
      ...(third ? [third] : []),
    ];
  }

  close(): void {
    this.unsubscribe();
  }

  async load(): Promise<void> {
    this.loading = true;
    this.progress = null;
    const result = await this.fetchTable();
    this.loading = false;
    if (!result.ok) {
      this.error = result.error;
      return;
    }
    this.error = null;
    this.measured = result.value;
    const worst = this.rows[0];
    if (worst && this.caseId === null) await this.open(worst.id);
  }

  async open(caseId: string): Promise<void> {
    const c = await this.asked.load(caseId, () => this.fetchCase(caseId));
    if (!c) return;
    this.errors = errorPane(asLabels(c.label.data), asLabels(c.prediction.data), c.image.shape);
    this.current = c;
    this.viewer = new ViewerState(c.image, this.errors.worst, this.errors.start);
    await this.opened(c, caseId);
  }
}
