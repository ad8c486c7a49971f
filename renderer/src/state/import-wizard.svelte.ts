// Runs in: the renderer. The dataset import wizard: pick a folder, inspect it (kind, labels, every problem
// per case), name it, import it into the library. Each step's outcome, errors included, lives here; the
// component only renders it.
import type { ApiClient } from '../../../core/api/client.ts';
import type { DatasetRecord, DatasetReport } from '../../../core/api/datasets.ts';
import type { ErrorData } from '../../../core/api/envelope.ts';
import { DATASET_NAME } from '../../../core/api/methods.ts';

export type WizardStep = 'folder' | 'inspecting' | 'report' | 'importing' | 'done';

/** A library name made from the dataset's own name: the characters a library name allows, trimmed. */
export function suggestName(datasetName: string): string {
  const cleaned = datasetName
    .replace(/[^A-Za-z0-9 ._-]+/g, ' ')
    .replace(/\s+/g, ' ')
    .trim()
    .replace(/^[^A-Za-z0-9]+|[^A-Za-z0-9]+$/g, '')
    .slice(0, 64)
    .replace(/[^A-Za-z0-9]+$/, '');
  return cleaned === '' ? 'dataset' : cleaned;
}

export class ImportWizard {
  step = $state<WizardStep>('folder');
  folder = $state('');
  name = $state('');
  copy = $state(false);
  /** Follow symbolic links out of the folder: for images kept elsewhere on purpose; off by default. */
  allowLinks = $state(false);
  report = $state.raw<DatasetReport | null>(null);
  progress = $state.raw<{ done: number; total: number } | null>(null);
  record = $state.raw<DatasetRecord | null>(null);
  error = $state.raw<ErrorData | null>(null);

  constructor(
    private readonly client: ApiClient,
    /** Only the desktop app can show a native folder dialog. */
    readonly canChooseFolder: boolean,
  ) {}

  /** Why the name cannot be used, or null when it can. */
  get nameProblem(): string | null {
    if (this.name === '') return 'Give the dataset a name.';
    try {
      DATASET_NAME.parse(this.name, 'name');
      return null;
    } catch {
      return `Use ${DATASET_NAME.expected}.`;
    }
  }

  async chooseFolder(): Promise<void> {
    const result = await this.client.call('app.chooseFolder', { title: 'Choose the dataset folder' });
    if (!result.ok) {
      this.error = result.error;
      return;
    }
    if (result.value.folder !== null) this.folder = result.value.folder;
  }

  async inspect(): Promise<void> {
    const folder = this.folder.trim();
    if (folder === '') {
      this.error = { code: 'bad_request', message: 'Enter the full path of the dataset folder first.' };
      return;
    }
    this.error = null;
    this.report = null;
    this.step = 'inspecting';
    const links = this.allowLinks ? { allowLinks: true } : {};
    const result = await this.withProgress(folder, () =>
      this.client.call('dataset.inspect', { folder, ...links }),
    );
    if (!result.ok) {
      this.error = result.error;
      this.step = 'folder';
      return;
    }
    this.report = result.value;
    this.name = suggestName(result.value.name);
    this.step = 'report';
  }

  async importDataset(): Promise<void> {
    if (!this.report || this.nameProblem !== null) return;
    this.error = null;
    this.step = 'importing';
    const folder = this.report.root;
    // The engine inspects the folder again, so the library records the files as they are now.
    const result = await this.withProgress(folder, () =>
      this.client.call('dataset.import', {
        folder,
        name: this.name,
        copy: this.copy,
        ...(this.allowLinks && { allowLinks: true }),
      }),
    );
    if (!result.ok) {
      this.error = result.error;
      this.step = 'report';
      return;
    }
    this.record = result.value;
    this.step = 'done';
  }

  /** Runs a call while showing the engine's progress through the cases of `folder`. */
  private async withProgress<T>(folder: string, run: () => Promise<T>): Promise<T> {
    this.progress = null;
    const stop = this.client.on('inspection.progressed', (p) => {
      if (p.folder === folder) this.progress = { done: p.done, total: p.total };
    });
    try {
      return await run();
    } finally {
      stop();
    }
  }

  back(): void {
    this.error = null;
    this.step = 'folder';
  }

  reset(): void {
    this.step = 'folder';
    this.folder = '';
    this.name = '';
    this.copy = false;
    this.allowLinks = false;
    this.report = null;
    this.progress = null;
    this.record = null;
    this.error = null;
  }
}
