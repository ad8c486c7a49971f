// Runs in: the renderer. One candidate under review on its validation cases (the table and the open case as
// in case-review.svelte.ts): the choice of third pane (error map or a second candidate), the ACDC cine, and
// the exports.
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
import { asLabels, type PaneContent } from '../viewer/viewer-model.ts';
import { CaseReviewState } from './case-review.svelte.ts';

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

export class ReviewState extends CaseReviewState<CandidateReview> {
  cine = $state.raw<CineState | null>(null);

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

  constructor(
    private readonly client: ApiClient,
    readonly runId: string,
    readonly candidateId: string,
  ) {
    super((report) =>
      client.on('review.progressed', (p) => {
        if (p.runId === runId && p.candidateId === candidateId) report(p);
      }),
    );
  }

  protected get predictedBy(): string {
    return this.candidateId;
  }

  protected fetchTable() {
    return this.client.call('candidate.review', { runId: this.runId, candidateId: this.candidateId });
  }

  protected fetchCase(caseId: string) {
    return this.client.call('review.case', { runId: this.runId, candidateId: this.candidateId, caseId });
  }

  /** The chosen third pane: the error map, a second candidate's prediction, or nothing. */
  protected override thirdPane(): PaneContent | null {
    if (this.third === 'errors') return this.errorsPane();
    if (this.third !== 'second' || !this.second || !this.secondId) return null;
    return {
      id: 'second',
      kind: 'second',
      title: `Prediction of ${this.secondId}`,
      labels: asLabels(this.second.data),
    };
  }

  override close(): void {
    super.close();
    this.cine?.stop();
  }

  protected override async opened(c: ReviewCase, caseId: string): Promise<void> {
    this.cine?.stop();
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
