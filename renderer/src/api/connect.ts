// Runs in: the renderer. Finds the engine: inside the desktop app the preload's bridge (IPC); in a plain
// browser the WebSocket of `emonas serve`, whose address and token come from the page's own address
// (`?token=...`, and `&engine=ws://...` when the engine is not the server that delivered the page).
import type { ApiClient } from '../../../core/api/client.ts';
import { ipcClient, type EmonasBridge } from './ipc-client.ts';
import { WebSocketClient, type SocketFactory } from './websocket-client.ts';

export type Connection =
  { kind: 'ipc'; client: ApiClient } | { kind: 'websocket'; client: ApiClient; socket: WebSocketClient };

/** Where the engine is, as far as the page can tell; nothing is opened yet. */
export type EngineLocation = { kind: 'ipc'; bridge: EmonasBridge } | { kind: 'websocket'; url: string };

export class NoEngineError extends Error {}

export function locateEngine(page: { location: { href: string }; emonas?: EmonasBridge }): EngineLocation {
  if (page.emonas) return { kind: 'ipc', bridge: page.emonas };
  const address = new URL(page.location.href);
  const token = address.searchParams.get('token');
  if (!token) {
    throw new NoEngineError(
      "This page does not know its engine: open it at the address 'emonas serve' prints (it ends with ?token=...).",
    );
  }
  const engine = address.searchParams.get('engine');
  const base = engine ?? `ws://${address.host}/api`;
  let url: URL;
  try {
    url = new URL(base);
  } catch {
    throw new NoEngineError(`The engine address '${base}' in this page's address is not a ws:// address.`);
  }
  if (url.protocol !== 'ws:') {
    throw new NoEngineError(`The engine address '${base}' in this page's address is not a ws:// address.`);
  }
  url.searchParams.set('token', token);
  return { kind: 'websocket', url: url.toString() };
}

export function connect(location: EngineLocation, open?: SocketFactory): Connection {
  if (location.kind === 'ipc') return { kind: 'ipc', client: ipcClient(location.bridge) };
  const socket = new WebSocketClient(location.url, open);
  return { kind: 'websocket', client: socket, socket };
}
