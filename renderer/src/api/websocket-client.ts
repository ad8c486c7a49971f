// Runs in: the renderer (in any Chromium, against `emonas serve`). The API client over a WebSocket: requests
// carry an id, answers come back with it, events arrive on their own (core/api/wire.ts). Calls made while
// the connection opens wait for it. When the connection drops, calls in flight and calls made meanwhile
// answer with an error sentence, and the client reconnects on its own.
import type { ApiClient, Unsubscribe } from '../../../core/api/client.ts';
import { fail, type Result } from '../../../core/api/envelope.ts';
import { isEventName, type EventName, type EventPayload } from '../../../core/api/events.ts';
import type { MethodInput, MethodName, MethodOutput } from '../../../core/api/methods.ts';
import { decodeMessage } from '../../../core/api/wire.ts';

export type ConnectionState = 'connecting' | 'open' | 'closed';

/** The part of the browser's WebSocket constructor the client uses, so tests can pass a stand-in. */
export type SocketFactory = (url: string) => WebSocket;

const RECONNECT_MS = 2000;

export class WebSocketClient implements ApiClient {
  private socket: WebSocket | undefined;
  private nextId = 1;
  private readonly pending = new Map<number, (result: Result<unknown>) => void>();
  private readonly listeners = new Map<EventName, Set<(payload: unknown) => void>>();
  private readonly stateListeners = new Set<(state: ConnectionState) => void>();
  private reconnectTimer: ReturnType<typeof setTimeout> | undefined;
  private stopped = false;
  state: ConnectionState = 'connecting';

  constructor(
    private url: string,
    private readonly open: SocketFactory = (u) => new WebSocket(u),
  ) {
    this.connect();
  }

  /** The engine's address without its token, for display. */
  get address(): string {
    const u = new URL(this.url);
    return `${u.protocol}//${u.host}${u.pathname}`;
  }

  call<M extends MethodName>(method: M, input: MethodInput<M>): Promise<Result<MethodOutput<M>>> {
    return this.request(method, input) as Promise<Result<MethodOutput<M>>>;
  }

  on<E extends EventName>(event: E, listener: (payload: EventPayload<E>) => void): Unsubscribe {
    const set = this.listeners.get(event) ?? new Set();
    this.listeners.set(event, set);
    const wrapped = listener as (payload: unknown) => void;
    set.add(wrapped);
    return () => set.delete(wrapped);
  }

  onStateChange(listener: (state: ConnectionState) => void): Unsubscribe {
    this.stateListeners.add(listener);
    return () => this.stateListeners.delete(listener);
  }

  /** Tries the engine again now instead of at the next retry. */
  reconnectNow(): void {
    if (this.stopped || this.state !== 'closed') return;
    clearTimeout(this.reconnectTimer);
    this.connect();
  }

  /**
   * Switches to another engine address (e.g. an engine restarted with a new token); calls in flight on the
   * old connection answer with the disconnection sentence.
   */
  retarget(url: string): void {
    this.url = url;
    clearTimeout(this.reconnectTimer);
    const old = this.socket;
    this.socket = undefined;
    for (const resolve of this.pending.values()) resolve(this.disconnected());
    this.pending.clear();
    old?.close();
    if (!this.stopped) this.connect();
  }

  close(): void {
    this.stopped = true;
    clearTimeout(this.reconnectTimer);
    this.socket?.close();
  }

  private async request(method: string, input: unknown): Promise<Result<unknown>> {
    // A page's first calls are made while the socket is still opening: they wait for it rather than fail.
    if (this.state === 'connecting') await this.settled();
    const socket = this.socket;
    if (!socket || this.state !== 'open') return Promise.resolve(this.disconnected());
    const id = this.nextId++;
    return new Promise((resolve) => {
      this.pending.set(id, resolve);
      try {
        socket.send(JSON.stringify({ id, method, input }));
      } catch {
        this.pending.delete(id);
        resolve(this.disconnected());
      }
    });
  }

  /** Resolves once the connection attempt under way has opened or failed. */
  private settled(): Promise<void> {
    return new Promise((resolve) => {
      const off = this.onStateChange((state) => {
        if (state === 'connecting') return;
        off();
        resolve();
      });
    });
  }

  private connect(): void {
    this.setState('connecting');
    const socket = this.open(this.url);
    socket.binaryType = 'arraybuffer';
    this.socket = socket;
    socket.onopen = () => this.setState('open');
    socket.onmessage = (message: MessageEvent) => this.receive(message.data);
    socket.onclose = () => {
      if (this.socket !== socket) return;
      this.socket = undefined;
      for (const resolve of this.pending.values()) resolve(this.disconnected());
      this.pending.clear();
      this.setState('closed');
      if (!this.stopped) this.reconnectTimer = setTimeout(() => this.connect(), RECONNECT_MS);
    };
  }

  private receive(data: unknown): void {
    let message: unknown;
    try {
      message = decodeMessage(typeof data === 'string' ? data : new Uint8Array(data as ArrayBuffer));
    } catch {
      return;
    }
    const m = message as { id?: unknown; result?: Result<unknown>; event?: unknown; payload?: unknown };
    if (typeof m.id === 'number' && m.result !== undefined) {
      const resolve = this.pending.get(m.id);
      this.pending.delete(m.id);
      resolve?.(m.result);
    } else if (isEventName(m.event)) {
      for (const listener of this.listeners.get(m.event) ?? []) {
        try {
          listener(m.payload);
        } catch (err) {
          // One failing listener must not keep the event from the others; the error still shows.
          queueMicrotask(() => {
            throw err;
          });
        }
      }
    }
  }

  private setState(state: ConnectionState): void {
    this.state = state;
    for (const listener of this.stateListeners) listener(state);
  }

  private disconnected(): Result<never> {
    return fail({
      code: 'internal',
      message: `The connection to the engine at ${this.address} is lost; check that 'emonas serve' is still running there. The app reconnects on its own.`,
      details: { disconnected: true },
    });
  }
}
