// Runs in: the renderer. Applying a run's model to new scans: the run and model chosen (its final model or a
// front candidate), the images (files or folders, typed or chosen in the desktop app's dialog) and the
// output folder, the prediction with progress, the files that could not be predicted, and the scan open in
// the two-pane review (image | image + prediction, a 4D series' cine). The component only renders this.
import type { ApiClient } from '../../../core/api/client.ts';
import type { ErrorData } from '../../../core/api/envelope.ts';
import type { AppliedScans, AppliedScanVolume } from '../../../core/api/finish.ts';
import type { RunSummary } from '../../../core/api/runs.ts';
import { LatestRequest } from '../state/latest-request.svelte.ts';
import { CineState } from '../viewer/cine-state.svelte.ts';
import { asLabels, type PaneContent } from '../viewer/viewer-model.ts';
import { ViewerState } from '../viewer/viewer-state.svelte.ts';
import {
  densestSlice,
  modelChoices,
  scanKey,
  scanRows,
  splitPaths,
  type ModelChoice,
} from './apply-model.ts';

export class ApplyState {
  runs = $state.raw<RunSummary[]>([]);
  runId = $state('');
  models = $state.raw<ModelChoice[]>([]);
  model = $state('');
  modelsLoading = $state(false);
  /** Image files or folders, one per line. */
  inputs = $state('');
  folder = $state('');
  busy = $state(false);
  progress = $state.raw<{ done: number; total: number; file: string } | null>(null);
  result = $state.raw<AppliedScans | null>(null);
  error = $state.raw<ErrorData | null>(null);

  /** The row whose scan the viewer shows (the last one read). */
  shown = $state<string | null>(null);
  current = $state.raw<AppliedScanVolume | null>(null);
  viewer = $state.raw<ViewerState | null>(null);
  cine = $state.raw<CineState | null>(null);
  /** Asks before predictions replace existing files (the engine answers `exists` until told to). */
  confirmReplace: (question: string) => boolean = (question) => window.confirm(question);
  /** The run and model the shown result came from, for reading its scans back. */
  private applied: { runId: string; model: string } | null = null;
  /** The row asked for last. */
  private readonly asked = new LatestRequest();

  constructor(
    private readonly client: ApiClient,
    /** Only the desktop app can show a native folder dialog. */
    readonly canChooseFolder: boolean,
  ) {
    client.on('scans.progressed', (p) => {
      if (this.busy && p.folder === this.folder.trim()) this.progress = p;
    });
  }

  get selected(): string | null {
    return this.asked.key;
  }

  get scanLoading(): boolean {
    return this.asked.loading;
  }

  get scanError(): ErrorData | null {
    return this.asked.error;
  }

  get rows() {
    return this.result ? scanRows(this.result) : [];
  }

  /** The open scan: its image | the image with the prediction over it. */
  get panes(): PaneContent[] {
    const c = this.current;
    if (!c) return [];
    return [
      { id: 'image', kind: 'image', title: 'Image', labels: null },
      {
        id: 'prediction',
        kind: 'prediction',
        title: 'Image + prediction',
        labels: asLabels(c.prediction.data),
      },
    ];
  }

  /** What stops the apply button, in a sentence; null when it can go. */
  get problem(): string | null {
    if (this.runId === '') return 'Choose a run.';
    if (this.model === '')
      return 'This run has no trained model yet: finish its search or train its final model first.';
    if (splitPaths(this.inputs).length === 0) return 'Give the images: files or folders, one per line.';
    if (this.folder.trim() === '') return 'Give the folder the predictions go into.';
    return null;
  }

  /**
   * The engine's runs, fetched again on every visit; `runId` chooses one (from a run's page), otherwise the
   * run chosen before stays, or the newest is chosen.
   */
  async load(runId?: string): Promise<void> {
    if (runId !== undefined) this.runId = runId;
    const result = await this.client.call('run.list', {});
    if (!result.ok) {
      this.error = result.error;
      return;
    }
    this.runs = result.value;
    const wanted = this.runId || result.value.at(-1)?.runId;
    if (wanted !== undefined && (runId !== undefined || this.models.length === 0))
      await this.chooseRun(wanted);
  }

  async chooseRun(runId: string): Promise<void> {
    this.runId = runId;
    this.modelsLoading = true;
    const [final, run] = await Promise.all([
      this.client.call('final.get', { runId }),
      this.client.call('run.get', { runId }),
    ]);
    if (this.runId !== runId) return;
    this.modelsLoading = false;
    if (!run.ok) {
      this.error = run.error;
      this.models = [];
      this.model = '';
      return;
    }
    this.error = null;
    this.models = modelChoices(final.ok ? final.value : null, run.value.front);
    this.model = this.models[0]?.value ?? '';
  }

  async chooseInputs(): Promise<void> {
    const folder = await this.chooseFolder('Choose a folder of images');
    if (folder !== null) this.inputs = [...splitPaths(this.inputs), folder].join('\n');
  }

  async chooseOutput(): Promise<void> {
    const folder = await this.chooseFolder('Choose the folder for the predictions');
    if (folder !== null) this.folder = folder;
  }

  private async chooseFolder(title: string): Promise<string | null> {
    const result = await this.client.call('app.chooseFolder', { title });
    if (result.ok) return result.value.folder;
    this.error = result.error;
    return null;
  }

  async apply(): Promise<void> {
    const problem = this.problem;
    if (problem !== null) {
      this.error = { code: 'bad_request', message: problem };
      return;
    }
    const request = {
      runId: this.runId,
      model: this.model,
      inputs: splitPaths(this.inputs),
      folder: this.folder.trim(),
    };
    this.busy = true;
    this.error = null;
    this.progress = null;
    this.result = null;
    this.closeScan();
    let result = await this.client.call('scans.apply', request);
    if (
      !result.ok &&
      result.error.code === 'exists' &&
      this.confirmReplace(`${result.error.file ?? request.folder} exists. Replace the predictions there?`)
    ) {
      result = await this.client.call('scans.apply', { ...request, overwrite: true });
    }
    this.busy = false;
    if (!result.ok) {
      this.error = result.error;
      return;
    }
    this.applied = { runId: request.runId, model: request.model };
    this.result = result.value;
    const first = this.rows[0];
    if (first) await this.open(first.key);
  }

  async open(key: string): Promise<void> {
    const scan = this.result?.scans.find((s) => scanKey(s) === key);
    if (!scan || !this.applied) return;
    const request = {
      ...this.applied,
      input: scan.input,
      output: scan.output,
      ...(scan.frame !== undefined && { frame: scan.frame }),
    };
    const volume = await this.asked.load(key, () => this.client.call('scans.volume', request));
    if (!volume) return;
    this.cine?.stop();
    this.current = volume;
    this.shown = key;
    this.viewer = new ViewerState(
      volume.image,
      null,
      densestSlice(volume.prediction.data, volume.prediction.shape),
    );
    const input = scan.input;
    this.cine = volume.cine
      ? new CineState((slice) => this.client.call('scans.cine', { input, slice }))
      : null;
  }

  private closeScan(): void {
    this.cine?.stop();
    this.asked.clear();
    this.shown = null;
    this.current = null;
    this.viewer = null;
    this.cine = null;
  }
}
