import { mkdtempSync, writeFileSync, mkdirSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { ApiEndpoint } from '../../../core/api/client.ts';
import { fail, ok } from '../../../core/api/envelope.ts';
import type { EventName } from '../../../core/api/events.ts';
import { decodeMessage, encodeMessage } from '../../../core/api/wire.ts';
import { startServer, type RunningServer } from '../../../core/transports/websocket-server.ts';

/** A stand-in engine: echoes its input, answers a typed array for 'case.volume', and can emit events. */
function fakeEndpoint() {
  const listeners = new Set<(event: EventName, payload: unknown) => void>();
  const endpoint: ApiEndpoint = {
    async callUnknown(method, input) {
      if (method === 'case.volume') return ok({ data: Float32Array.from([1, 2, 3]) });
      if (method === 'dataset.list') return ok({ echo: input });
      return fail({ code: 'bad_request', message: `There is no API method '${String(method)}'.` });
    },
    onAnyEvent(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
  const emit = (event: EventName, payload: unknown) => listeners.forEach((l) => l(event, payload));
  return { endpoint, emit, listeners };
}

let server: RunningServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

function connect(url: string, headers: Record<string, string> = {}): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers });
    ws.once('open', () => resolve(ws));
    ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
    ws.once('error', reject);
  });
}

function nextMessage(ws: WebSocket): Promise<unknown> {
  return new Promise((resolve) =>
    ws.once('message', (data: Buffer, isBinary: boolean) =>
      resolve(decodeMessage(isBinary ? new Uint8Array(data) : data.toString('utf8'))),
    ),
  );
}

function httpGet(port: number, path: string, host = `127.0.0.1:${port}`) {
  return new Promise<{ status: number; body: string; headers: Record<string, unknown> }>(
    (resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, path, headers: { host } }, (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }));
      });
      req.on('error', reject);
      req.end();
    },
  );
}

describe('emonas serve transport', () => {
  it('listens on 127.0.0.1 with a fresh 64-hex-digit token and refuses connections without it', async () => {
    server = await startServer({ endpoint: fakeEndpoint().endpoint });
    expect(server.token).toMatch(/^[0-9a-f]{64}$/);
    expect(server.apiUrl).toBe(`ws://127.0.0.1:${server.port}/api?token=${server.token}`);
    const base = `ws://127.0.0.1:${server.port}/api`;
    await expect(connect(base)).rejects.toThrow('HTTP 401');
    await expect(connect(`${base}?token=${'0'.repeat(64)}`)).rejects.toThrow('HTTP 401');
    await expect(connect(`${base}?token=${server.token.slice(1)}`)).rejects.toThrow('HTTP 401');
    await expect(connect(`ws://127.0.0.1:${server.port}/other?token=${server.token}`)).rejects.toThrow(
      'HTTP 404',
    );
    const other = await startServer({ endpoint: fakeEndpoint().endpoint });
    expect(other.token).not.toBe(server.token);
    await other.close();
  });

  it('refuses foreign origins and non-loopback host names even with the token', async () => {
    server = await startServer({ endpoint: fakeEndpoint().endpoint });
    await expect(connect(server.apiUrl, { origin: 'https://evil.example' })).rejects.toThrow('HTTP 403');
    await expect(connect(server.apiUrl, { host: `evil.example:${server.port}` })).rejects.toThrow('HTTP 403');
    const ws = await connect(server.apiUrl, { origin: `http://127.0.0.1:${server.port}` });
    ws.close();
  });

  it('answers a call with its id, sends typed arrays as a binary frame, and relays events', async () => {
    const fake = fakeEndpoint();
    server = await startServer({ endpoint: fake.endpoint });
    const ws = await connect(server.apiUrl);
    ws.send(JSON.stringify({ id: 7, method: 'dataset.list', input: { a: 1 } }));
    expect(await nextMessage(ws)).toEqual({ id: 7, result: { ok: true, value: { echo: { a: 1 } } } });

    const binary = new Promise<boolean>((resolve) =>
      ws.once('message', (_d, isBinary: boolean) => resolve(isBinary)),
    );
    const volume = nextMessage(ws);
    ws.send(JSON.stringify({ id: 8, method: 'case.volume', input: {} }));
    expect(await binary).toBe(true);
    const answer = (await volume) as { id: number; result: { value: { data: Float32Array } } };
    expect(answer.id).toBe(8);
    expect(answer.result.value.data).toBeInstanceOf(Float32Array);
    expect([...answer.result.value.data]).toEqual([1, 2, 3]);

    const event = nextMessage(ws);
    fake.emit('dataset.removed', { name: 'x' });
    expect(await event).toEqual({ event: 'dataset.removed', payload: { name: 'x' } });
    ws.close();
  });

  it('answers malformed requests with an error envelope and stays up', async () => {
    server = await startServer({ endpoint: fakeEndpoint().endpoint });
    const ws = await connect(server.apiUrl);
    ws.send('not json');
    expect(await nextMessage(ws)).toMatchObject({
      id: -1,
      result: { ok: false, error: { code: 'bad_request' } },
    });
    ws.send(encodeMessage({ id: 2, method: 'x', input: { data: new Uint8Array(3) } }));
    expect(await nextMessage(ws)).toMatchObject({
      id: 2,
      result: { ok: false, error: { code: 'bad_request' } },
    });
    ws.send(JSON.stringify({ id: 3, method: 'dataset.list', input: null }));
    expect(await nextMessage(ws)).toEqual({ id: 3, result: { ok: true, value: { echo: null } } });
    ws.close();
  });

  it('says in words when the port is taken', async () => {
    server = await startServer({ endpoint: fakeEndpoint().endpoint });
    await expect(startServer({ endpoint: fakeEndpoint().endpoint, port: server.port })).rejects.toThrow(
      `Port ${server.port} on 127.0.0.1 cannot be used (another program listens there)`,
    );
  });

  it('stops relaying events once closed', async () => {
    const fake = fakeEndpoint();
    server = await startServer({ endpoint: fake.endpoint });
    expect(fake.listeners.size).toBe(1);
    await server.close();
    server = undefined;
    expect(fake.listeners.size).toBe(0);
  });

  it('serves the built app with a strict policy, and nothing outside its folder', async () => {
    const ui = mkdtempSync(join(tmpdir(), 'emonas-ui-'));
    writeFileSync(join(ui, 'index.html'), '<!doctype html><title>t</title>');
    mkdirSync(join(ui, 'assets'));
    writeFileSync(join(ui, 'assets', 'a.js'), 'export {}');
    writeFileSync(join(ui, '..', 'emonas-secret.txt'), 'secret');
    server = await startServer({ endpoint: fakeEndpoint().endpoint, uiFolder: ui });
    const index = await httpGet(server.port, '/?token=abc');
    expect(index.status).toBe(200);
    expect(index.body).toContain('<title>t</title>');
    expect(index.headers['content-security-policy']).toContain("default-src 'none'");
    expect(index.headers['referrer-policy']).toBe('no-referrer');
    expect((await httpGet(server.port, '/assets/a.js')).headers['content-type']).toContain('text/javascript');
    for (const path of [
      '/../emonas-secret.txt',
      '/%2e%2e/emonas-secret.txt',
      '/..%2femonas-secret.txt',
      '/assets/..%2f..%2femonas-secret.txt',
      '/assets',
      '/nope',
      '/%00',
    ]) {
      const res = await httpGet(server.port, path);
      expect(res.status, path).toBeGreaterThanOrEqual(400);
      expect(res.body).not.toContain('secret');
    }
  });
});
