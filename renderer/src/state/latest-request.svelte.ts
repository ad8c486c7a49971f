// Runs in: the renderer. The latest of the user's picks that the engine answers one at a time (a case, a
// scan): its key, whether its answer is on the way, and the error if the engine failed. A pick answered
// slowly must not replace a later one, so an answer to any but the latest request is dropped.
import type { ErrorData, Result } from '../../../core/api/envelope.ts';

export class LatestRequest {
  key = $state<string | null>(null);
  loading = $state(false);
  error = $state.raw<ErrorData | null>(null);
  /** Counts the requests, so a slow answer for a key picked again (a, b, a) is still told from the latest. */
  private latest = 0;

  /** The engine's answer for `key`; null when it failed (kept in `error`) or a later request superseded it. */
  async load<T extends object>(key: string, fetch: () => Promise<Result<T>>): Promise<T | null> {
    const request = ++this.latest;
    this.key = key;
    this.loading = true;
    const result = await fetch();
    if (request !== this.latest) return null;
    this.loading = false;
    if (!result.ok) {
      this.error = result.error;
      return null;
    }
    this.error = null;
    return result.value;
  }

  /** Forgets the pick: an answer still on the way is dropped, and nothing shows as loading. */
  clear(): void {
    this.latest++;
    this.key = null;
    this.loading = false;
    this.error = null;
  }
}
