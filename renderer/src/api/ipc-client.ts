// Runs in: the renderer (inside the desktop app). The API client over Electron IPC: a thin typed face on
// the `window.emonas` bridge the preload exposes.
import type { ApiClient } from '../../../core/api/client.ts';
import type { Result } from '../../../core/api/envelope.ts';
import type { EventName, EventPayload } from '../../../core/api/events.ts';
import type { MethodInput, MethodName, MethodOutput } from '../../../core/api/methods.ts';

/** What electron/preload.ts exposes as window.emonas. */
export interface EmonasBridge {
  methods: string[];
  events: string[];
  call(method: string, input: unknown): Promise<Result<unknown>>;
  on(event: string, listener: (payload: unknown) => void): () => void;
}

export function ipcClient(bridge: EmonasBridge): ApiClient {
  return {
    call: <M extends MethodName>(method: M, input: MethodInput<M>) =>
      bridge.call(method, input) as Promise<Result<MethodOutput<M>>>,
    on: <E extends EventName>(event: E, listener: (payload: EventPayload<E>) => void) =>
      bridge.on(event, listener as (payload: unknown) => void),
  };
}
