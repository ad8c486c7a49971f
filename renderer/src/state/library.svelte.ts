// Runs in: the renderer. The Datasets page's data: the engine's dataset library, kept fresh by the
// engine's events (another window or the command line may import too), and the dataset opened for a look.
import type { ApiClient } from '../../../core/api/client.ts';
import type { DatasetRecord, DatasetReport } from '../../../core/api/datasets.ts';
import type { ErrorData } from '../../../core/api/envelope.ts';
import { CasePreview } from './case-preview.svelte.ts';

export class LibraryState {
  datasets = $state.raw<DatasetRecord[]>([]);
  loaded = $state(false);
  error = $state.raw<ErrorData | null>(null);
  /** The dataset shown in detail, with the report recorded at import. */
  opened = $state.raw<{ record: DatasetRecord; report: DatasetReport } | null>(null);
  /** The case shown from the opened dataset. */
  preview = $state.raw<CasePreview | null>(null);
  /** The list, or the import wizard in its place. */
  view = $state<'list' | 'import'>('list');
  /** A removal waiting for the user's confirmation. */
  confirmingRemoval = $state<string | null>(null);

  constructor(private readonly client: ApiClient) {
    client.on('dataset.imported', () => void this.refresh());
    client.on('dataset.removed', ({ name }) => {
      if (this.opened?.record.name === name) this.opened = null;
      void this.refresh();
    });
  }

  async refresh(): Promise<void> {
    const result = await this.client.call('dataset.list', {});
    this.loaded = true;
    if (result.ok) {
      this.datasets = result.value;
      this.error = null;
    } else {
      this.error = result.error;
    }
  }

  async open(name: string): Promise<void> {
    const result = await this.client.call('dataset.get', { name });
    if (result.ok) {
      this.opened = result.value;
      this.preview = new CasePreview(this.client, name);
      this.error = null;
    } else {
      this.error = result.error;
    }
  }

  close(): void {
    this.opened = null;
    this.preview = null;
  }

  showImport(): void {
    this.opened = null;
    this.view = 'import';
  }

  showList(): void {
    this.view = 'list';
    void this.refresh();
  }

  askRemoval(name: string): void {
    this.confirmingRemoval = name;
  }

  cancelRemoval(): void {
    this.confirmingRemoval = null;
  }

  async remove(name: string): Promise<void> {
    this.confirmingRemoval = null;
    const result = await this.client.call('dataset.remove', { name });
    if (!result.ok) this.error = result.error;
    await this.refresh();
  }
}
