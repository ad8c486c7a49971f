// Runs in: any process. The one shape every side of the contract has: the engine itself, the Electron
// preload's `window.emonas`, and the renderer's WebSocket client all answer `call` with a result envelope
// and deliver events through `on`.
import type { Result } from './envelope.ts';
import type { EventName, EventPayload } from './events.ts';
import type { MethodInput, MethodName, MethodOutput } from './methods.ts';

export type Unsubscribe = () => void;

export interface ApiClient {
  call<M extends MethodName>(method: M, input: MethodInput<M>): Promise<Result<MethodOutput<M>>>;
  on<E extends EventName>(event: E, listener: (payload: EventPayload<E>) => void): Unsubscribe;
}

/** What a transport relays: requests it cannot type (they come off a wire) and every event. */
export interface ApiEndpoint {
  callUnknown(method: unknown, input: unknown): Promise<Result<unknown>>;
  onAnyEvent(listener: (event: EventName, payload: unknown) => void): Unsubscribe;
}
