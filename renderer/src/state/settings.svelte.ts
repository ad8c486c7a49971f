// Runs in: the renderer. The Settings page's data: the engine's doctor report (which training backend is
// active and why the others are not).
import type { DoctorReport } from '../../../core/api/app.ts';
import type { ApiClient } from '../../../core/api/client.ts';
import type { ErrorData } from '../../../core/api/envelope.ts';

export class SettingsState {
  report = $state.raw<DoctorReport | null>(null);
  error = $state.raw<ErrorData | null>(null);
  loading = $state(false);

  constructor(private readonly client: ApiClient) {}

  async load(): Promise<void> {
    this.loading = true;
    const result = await this.client.call('app.doctor', {});
    this.loading = false;
    if (result.ok) {
      this.report = result.value;
      this.error = null;
    } else {
      this.error = result.error;
    }
  }
}
