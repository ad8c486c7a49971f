import { afterEach, describe, expect, it } from 'vitest';
import NodeWebSocket from 'ws';
import type { ApiEndpoint } from '../../../core/api/client.ts';
import { ok } from '../../../core/api/envelope.ts';
import type { EventName } from '../../../core/api/events.ts';
import { startServer, type RunningServer } from '../../../core/transports/websocket-server.ts';
import { connect, locateEngine, NoEngineError } from '../../../renderer/src/api/connect.ts';
import type { EmonasBridge } from '../../../renderer/src/api/ipc-client.ts';
import { WebSocketClient, type SocketFactory } from '../../../renderer/src/api/websocket-client.ts';

// Node 20 has no global WebSocket; the ws client has the browser's onopen/onmessage/binaryType surface.
const open: SocketFactory = (url) => new NodeWebSocket(url) as unknown as WebSocket;

const listeners = new Set<(event: EventName, payload: unknown) => void>();
const endpoint: ApiEndpoint = {
  async callUnknown(method, input) {
    if (method === 'case.volume') return ok({ image: { data: Int16Array.from([-5, 6, 7]) } });
    return ok({ method, input });
  },
  onAnyEvent(listener) {
    listeners.add(listener);
    return () => listeners.delete(listener);
  },
};

let server: RunningServer | undefined;
let client: WebSocketClient | undefined;
afterEach(async () => {
  client?.close();
  await server?.close();
  server = undefined;
});

function opened(c: WebSocketClient): Promise<void> {
  return new Promise((resolve) => {
    if (c.state === 'open') resolve();
    const off = c.onStateChange((s) => {
      if (s === 'open') {
        off();
        resolve();
      }
    });
  });
}

describe('the renderer WebSocket client against the real emonas serve transport', () => {
  it('round-trips calls, typed arrays and events, and hides the token when showing the address', async () => {
    server = await startServer({ endpoint });
    client = new WebSocketClient(server.apiUrl, open);
    await opened(client);
    expect(client.address).toBe(`ws://127.0.0.1:${server.port}/api`);
    await expect(client.call('dataset.list', {})).resolves.toEqual({
      ok: true,
      value: { method: 'dataset.list', input: {} },
    });
    const volume = (await client.call('case.volume', { dataset: 'a', caseId: 'b' })) as unknown as {
      value: { image: { data: Int16Array } };
    };
    expect(volume.value.image.data).toBeInstanceOf(Int16Array);
    expect([...volume.value.image.data]).toEqual([-5, 6, 7]);

    const seen: unknown[] = [];
    const off = client.on('dataset.removed', (p) => seen.push(p));
    const arrived = new Promise<void>((resolve) => client?.on('dataset.removed', () => resolve()));
    listeners.forEach((l) => l('dataset.removed', { name: 'x' }));
    await arrived;
    off();
    expect(seen).toEqual([{ name: 'x' }]);
  });

  it('answers with an error sentence while the engine is gone', async () => {
    server = await startServer({ endpoint });
    client = new WebSocketClient(server.apiUrl, open);
    await opened(client);
    const closed = new Promise<void>((resolve) => client?.onStateChange((s) => s === 'closed' && resolve()));
    await server.close();
    server = undefined;
    await closed;
    const answer = await client.call('dataset.list', {});
    expect(answer).toMatchObject({ ok: false, error: { code: 'internal' } });
    expect(!answer.ok && answer.error.message).toMatch(
      /connection to the engine at ws:\/\/127\.0\.0\.1:\d+\/api is lost/,
    );
    expect(!answer.ok && answer.error.message).not.toContain('token');
  });
});

describe('finding the engine', () => {
  it('uses the desktop bridge when there is one', () => {
    const bridge = {
      methods: [],
      events: [],
      call: async () => ok(null),
      on: () => () => undefined,
    } as EmonasBridge;
    const location = locateEngine({ location: { href: 'app://emonas/index.html' }, emonas: bridge });
    expect(location.kind).toBe('ipc');
    expect(connect(location).kind).toBe('ipc');
  });

  it('reads the token (and an optional engine address) from the page address', () => {
    expect(locateEngine({ location: { href: 'http://127.0.0.1:4000/?token=abc#/settings' } })).toEqual({
      kind: 'websocket',
      url: 'ws://127.0.0.1:4000/api?token=abc',
    });
    expect(
      locateEngine({ location: { href: 'http://127.0.0.1:5173/?token=t&engine=ws://127.0.0.1:9000/api' } }),
    ).toEqual({ kind: 'websocket', url: 'ws://127.0.0.1:9000/api?token=t' });
  });

  it('explains what to open when the address carries no token or a bad engine', () => {
    expect(() => locateEngine({ location: { href: 'http://127.0.0.1:4000/' } })).toThrow(NoEngineError);
    expect(() => locateEngine({ location: { href: 'http://127.0.0.1:4000/' } })).toThrow(
      /'emonas serve' prints/,
    );
    expect(() => locateEngine({ location: { href: 'http://h/?token=t&engine=https://x' } })).toThrow(
      /not a ws:\/\//,
    );
  });
});
