// Runs in: the renderer. The case chosen for a look in a dataset's page: its voxels as the engine sent
// them, the slice shown, the intensity window, and whether it is open in the full viewer.
import type { ApiClient } from '../../../core/api/client.ts';
import type { CaseVolume } from '../../../core/api/datasets.ts';
import type { ErrorData } from '../../../core/api/envelope.ts';
import { intensityWindow } from './slice-image.ts';

export class CasePreview {
  caseId = $state('');
  volume = $state.raw<CaseVolume | null>(null);
  window = $state.raw<[number, number]>([0, 1]);
  slice = $state(0);
  loading = $state(false);
  error = $state.raw<ErrorData | null>(null);
  /** Shown in the Cornerstone viewer (with the cine for ACDC) rather than as one quick slice. */
  viewing = $state(false);

  constructor(
    readonly client: ApiClient,
    readonly dataset: string,
  ) {}

  get depth(): number {
    return this.volume?.image.shape[2] ?? 0;
  }

  async show(caseId: string): Promise<void> {
    this.caseId = caseId;
    this.loading = true;
    const result = await this.client.call('case.volume', { dataset: this.dataset, caseId });
    this.loading = false;
    if (!result.ok) {
      this.error = result.error;
      this.volume = null;
      return;
    }
    this.error = null;
    this.volume = result.value;
    this.window = intensityWindow(result.value.image.data);
    this.slice = Math.floor(result.value.image.shape[2] / 2);
  }
}
