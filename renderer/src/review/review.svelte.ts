// Runs in: the renderer. One candidate under review: its per-case metrics (predicting the validation cases
// on first open, with progress), the table's order, the case open in the viewer with its panes (ground
// truth | prediction | error map or a second candidate), and the exports.
import type { ApiClient } from '../../../core/api/client.ts';
import type { VolumeData } from '../../../core/api/datasets.ts';
import type { ErrorData } from '../../../core/api/envelope.ts';
import type {
  CandidateReview,
  ExportedFiles,
  ModelExportFormat,
  ReviewCase,
} from '../../../core/api/review.ts';
import { CineState } from '../viewer/cine-state.svelte.ts';
import { asLabels, errorPane, type ErrorPane, type PaneContent } from '../viewer/viewer-model.ts';
import { ViewerState } from '../viewer/viewer-state.svelte.ts';
import { sortCases, WORST_FIRST, type CaseTable, type SortOrder } from './review-model.ts';

export type ThirdPane = 'none' | 'errors' | 'second';

export interface ExportState {
  path: string;
  busy: boolean;
  done: ExportedFiles | null;
  error: ErrorData | null;
}

function exportState(path = ''): ExportState {
  return { path, busy: false, done: null, error: null };
}

export class ReviewState implements CaseTable {
  review = $state.raw<CandidateReview | null>(null);
  progress = $state.raw<{ done: number; total: number } | null>(null);
  loading = $state(false);
  error = $state.raw<ErrorData | null>(null);
  order = $state.raw<SortOrder>(WORST_FIRST);

  caseId = $state<string | null>(null);
  current = $state.raw<ReviewCase | null>(null);
  errors = $state.raw<ErrorPane | null>(null);
  viewer = $state.raw<ViewerState | null>(null);
  cine = $state.raw<CineState | null>(null);
  caseLoading = $state(false);
  caseError = $state.raw<ErrorData | null>(null);

  third = $state<ThirdPane>('errors');
  secondId = $state<string | null>(null);
  second = $state.raw<VolumeData | null>(null);
  secondError = $state.raw<ErrorData | null>(null);

  predictionsExport = $state(exportState());
  modelExport = $state(exportState());
  modelFormat = $state<ModelExportFormat>('tfjs');
  reportExport = $state(exportState());
  /** Asks before an export replaces an existing file (the engine answers `exists` until told to). */
  confirmReplace: (question: string) => boolean = (question) => window.confirm(question);

  private readonly unsubscribe: () => void;

  constructor(
    private readonly client: ApiClient,
    readonly runId: string,
    readonly candidateId: string,
  ) {
    this.unsubscribe = client.on('review.progressed', (p) => {
      if (p.runId === runId && p.candidateId === candidateId)
        this.progress = { done: p.done, total: p.total };
    });
  }

  get structures(): string[] {
    return Object.keys(this.review?.structures ?? {});
  }

  get rows() {
    return this.review ? sortCases(this.review.cases, this.order) : [];
  }

  /** The panes for the open case: ground truth | prediction | the chosen third. */
  get panes(): PaneContent[] {
    const c = this.current;
    if (!c) return [];
    const panes: PaneContent[] = [
      { id: 'truth', kind: 'truth', title: 'Ground truth', labels: asLabels(c.label.data) },
      {
        id: 'prediction',
        kind: 'prediction',
        title: `Prediction of ${this.candidateId}`,
        labels: asLabels(c.prediction.data),
      },
    ];
    if (this.third === 'errors' && this.errors) {
      panes.push({
        id: 'errors',
        kind: 'errors',
        title: 'Errors of the prediction',
        labels: this.errors.labels,
      });
    } else if (this.third === 'second' && this.second && this.secondId) {
      panes.push({
        id: 'second',
        kind: 'second',
        title: `Prediction of ${this.secondId}`,
        labels: asLabels(this.second.data),
      });
    }
    return panes;
  }

  close(): void {
    this.unsubscribe();
    this.cine?.stop();
  }

  async load(): Promise<void> {
    this.loading = true;
    this.progress = null;
    const result = await this.client.call('candidate.review', {
      runId: this.runId,
      candidateId: this.candidateId,
    });
    this.loading = false;
    if (!result.ok) {
      this.error = result.error;
      return;
    }
    this.error = null;
    this.review = result.value;
    const worst = this.rows[0];
    if (worst && this.caseId === null) await this.open(worst.id);
  }

  async open(caseId: string): Promise<void> {
    this.caseId = caseId;
    this.caseLoading = true;
    const result = await this.client.call('review.case', {
      runId: this.runId,
      candidateId: this.candidateId,
      caseId,
    });
    if (this.caseId !== caseId) return;
    this.caseLoading = false;
    if (!result.ok) {
      this.caseError = result.error;
      return;
    }
    this.caseError = null;
    const c = result.value;
    this.cine?.stop();
    this.errors = errorPane(asLabels(c.label.data), asLabels(c.prediction.data), c.image.shape);
    this.current = c;
    this.viewer = new ViewerState(c.image, this.errors.worst, this.errors.start);
    this.cine = c.cine
      ? new CineState((slice) =>
          this.client.call('review.cine', {
            runId: this.runId,
            candidateId: this.candidateId,
            caseId,
            slice,
          }),
        )
      : null;
    this.second = null;
    if (this.third === 'second' && this.secondId) await this.compareWith(this.secondId);
  }

  async compareWith(candidateId: string): Promise<void> {
    this.secondId = candidateId;
    this.third = 'second';
    const caseId = this.caseId;
    if (caseId === null) return;
    const result = await this.client.call('review.prediction', { runId: this.runId, candidateId, caseId });
    if (this.caseId !== caseId || this.secondId !== candidateId) return;
    if (result.ok) {
      this.second = result.value;
      this.secondError = null;
    } else {
      this.second = null;
      this.secondError = result.error;
    }
  }

  showThird(mode: ThirdPane): void {
    this.third = mode;
    if (mode === 'second' && this.secondId && !this.second) void this.compareWith(this.secondId);
  }

  async exportPredictions(): Promise<void> {
    await this.run(this.predictionsExport, (folder, overwrite) =>
      this.client.call('prediction.export', {
        runId: this.runId,
        candidateId: this.candidateId,
        folder,
        ...(overwrite && { overwrite }),
      }),
    );
  }

  async exportModel(): Promise<void> {
    await this.run(this.modelExport, (folder, overwrite) =>
      this.client.call('model.export', {
        runId: this.runId,
        candidateId: this.candidateId,
        folder,
        format: this.modelFormat,
        ...(overwrite && { overwrite }),
      }),
    );
  }

  async exportReport(): Promise<void> {
    await this.run(this.reportExport, (file, overwrite) =>
      this.client.call('report.export', {
        runId: this.runId,
        candidateId: this.candidateId,
        ...(file.trim() ? { file: file.trim() } : {}),
        ...(overwrite && { overwrite }),
      }),
    );
  }

  private async run(
    state: ExportState,
    call: (
      path: string,
      overwrite: boolean,
    ) => Promise<{ ok: true; value: ExportedFiles } | { ok: false; error: ErrorData }>,
  ): Promise<void> {
    state.busy = true;
    state.done = null;
    state.error = null;
    let result = await call(state.path, false);
    if (
      !result.ok &&
      result.error.code === 'exists' &&
      this.confirmReplace(`${result.error.file ?? state.path} exists. Replace it?`)
    ) {
      result = await call(state.path, true);
    }
    state.busy = false;
    if (result.ok) state.done = result.value;
    else state.error = result.error;
  }
}
