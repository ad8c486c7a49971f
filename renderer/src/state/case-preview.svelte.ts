// Runs in: the renderer. The case chosen for a look in a dataset's page: its voxels as the engine sent
// them, the slice shown, the intensity window, and whether it is open in the full viewer.
import type { ApiClient } from '../../../core/api/client.ts';
import type { CaseVolume } from '../../../core/api/datasets.ts';
import type { ErrorData } from '../../../core/api/envelope.ts';
import { LatestRequest } from './latest-request.svelte.ts';
import { intensityWindow } from './slice-image.ts';

export class CasePreview {
  volume = $state.raw<CaseVolume | null>(null);
  window = $state.raw<[number, number]>([0, 1]);
  slice = $state(0);
  /** Shown in the Cornerstone viewer (with the cine for ACDC) rather than as one quick slice. */
  viewing = $state(false);
  /** The case asked for last; `volume` is the last one read, cleared while another is read. */
  private readonly asked = new LatestRequest();

  constructor(
    readonly client: ApiClient,
    readonly dataset: string,
  ) {}

  get caseId(): string {
    return this.asked.key ?? '';
  }

  get loading(): boolean {
    return this.asked.loading;
  }

  get error(): ErrorData | null {
    return this.asked.error;
  }

  get depth(): number {
    return this.volume?.image.shape[2] ?? 0;
  }

  async show(caseId: string): Promise<void> {
    // The image on screen must never carry the name of the case being read.
    this.volume = null;
    const volume = await this.asked.load(caseId, () =>
      this.client.call('case.volume', { dataset: this.dataset, caseId }),
    );
    if (!volume) return;
    this.volume = volume;
    this.window = intensityWindow(volume.image.data);
    this.slice = Math.floor(volume.image.shape[2] / 2);
  }
}
