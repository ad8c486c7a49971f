import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ApiEndpoint } from '../../../core/api/client.ts';
import type { EventName } from '../../../core/api/events.ts';
import { createEngine } from '../../../core/service/index.ts';
import {
  bindIpc,
  relayEvents,
  type EventTarget,
  type InvokeEvent,
  type IpcMainLike,
} from '../../../electron/ipc.ts';
import { isAppUrl } from '../../../electron/app-protocol.ts';
import { CALL_CHANNEL, EVENT_CHANNEL } from '../../../electron/ipc-channels.ts';

/** A stand-in for Electron's ipcMain: records the handler so a test can invoke it as a page would. */
class FakeIpcMain implements IpcMainLike {
  handlers = new Map<string, (event: InvokeEvent, ...args: unknown[]) => Promise<unknown>>();
  handle(channel: string, listener: (event: InvokeEvent, ...args: unknown[]) => Promise<unknown>) {
    this.handlers.set(channel, listener);
  }
  removeHandler(channel: string) {
    this.handlers.delete(channel);
  }
  invoke(url: string | null, args: unknown[], parent: unknown = null): Promise<unknown> {
    const handler = this.handlers.get(CALL_CHANNEL);
    if (!handler) throw new Error('no handler bound');
    return handler({ senderFrame: url === null ? null : { url, parent } }, ...args);
  }
}

const APP = 'app://emonas/index.html';

function engineWith(options: { chooseFolder?: () => Promise<string | null> } = {}) {
  const logs: string[] = [];
  const engine = createEngine({
    dataDir: mkdtempSync(join(tmpdir(), 'emonas-ipc-')),
    host: options,
    log: (m) => logs.push(m),
  });
  return { engine, logs };
}

describe('the IPC binding', () => {
  it('answers a call from the app page with the engine result envelope', async () => {
    const ipc = new FakeIpcMain();
    bindIpc(ipc, engineWith().engine, isAppUrl);
    await expect(ipc.invoke(APP, ['dataset.list', {}])).resolves.toEqual({ ok: true, value: [] });
  });

  it('refuses foreign senders, sub-frames and missing frames without calling the engine', async () => {
    const ipc = new FakeIpcMain();
    let calls = 0;
    const endpoint: ApiEndpoint = {
      callUnknown: async () => {
        calls++;
        return { ok: true, value: null };
      },
      onAnyEvent: () => () => undefined,
    };
    bindIpc(ipc, endpoint, isAppUrl);
    for (const [url, parent] of [
      ['https://evil.example/', null],
      ['file:///home/user/page.html', null],
      ['app://other/index.html', null],
      [APP, { url: APP }],
      [null, null],
    ] as const) {
      const answer = await ipc.invoke(url, ['dataset.list', {}], parent);
      expect(answer, String(url)).toMatchObject({ ok: false, error: { code: 'bad_request' } });
      expect((answer as { error: { message: string } }).error.message).toContain('not Emonas Studio');
    }
    expect(calls).toBe(0);
  });

  it('refuses invalid input with a typed error naming the field', async () => {
    const ipc = new FakeIpcMain();
    bindIpc(ipc, engineWith().engine, isAppUrl);
    expect(await ipc.invoke(APP, ['dataset.inspect', { folder: 5 }])).toEqual({
      ok: false,
      error: {
        code: 'bad_request',
        message: "The request field 'folder' must be text of 1 to 4096 characters, but it was a number.",
        details: { field: 'folder' },
      },
    });
    expect(await ipc.invoke(APP, ['dataset.inspect', 'folder'])).toMatchObject({
      ok: false,
      error: { code: 'bad_request' },
    });
    expect(await ipc.invoke(APP, ['fs.readFile', {}])).toMatchObject({
      ok: false,
      error: { code: 'bad_request', message: expect.stringContaining("no API method 'fs.readFile'") },
    });
    expect(await ipc.invoke(APP, ['dataset.list'])).toMatchObject({
      ok: false,
      error: { code: 'bad_request' },
    });
    expect(await ipc.invoke(APP, ['dataset.list', {}, 'extra'])).toMatchObject({
      ok: false,
      error: { code: 'bad_request' },
    });
  });

  it('turns a thrown error into an envelope, keeping the stack trace in the engine log only', async () => {
    const ipc = new FakeIpcMain();
    const { engine, logs } = engineWith({
      chooseFolder: () => Promise.reject(new Error('dialog exploded')),
    });
    bindIpc(ipc, engine, isAppUrl);
    const answer = await ipc.invoke(APP, ['app.chooseFolder', {}]);
    expect(answer).toEqual({ ok: false, error: { code: 'internal', message: 'dialog exploded' } });
    expect(JSON.stringify(answer)).not.toContain('at ');
    expect(logs.join('\n')).toMatch(/app\.chooseFolder failed: Error: dialog exploded\n\s+at /);

    const throwing: ApiEndpoint = {
      callUnknown: () => Promise.reject(new TypeError('endpoint broke')),
      onAnyEvent: () => () => undefined,
    };
    const ipc2 = new FakeIpcMain();
    bindIpc(ipc2, throwing, isAppUrl);
    await expect(ipc2.invoke(APP, ['dataset.list', {}])).resolves.toEqual({
      ok: false,
      error: { code: 'internal', message: 'endpoint broke' },
    });
  });

  it('unbinds its handler', () => {
    const ipc = new FakeIpcMain();
    const unbind = bindIpc(ipc, engineWith().engine, isAppUrl);
    expect(ipc.handlers.has(CALL_CHANNEL)).toBe(true);
    unbind();
    expect(ipc.handlers.has(CALL_CHANNEL)).toBe(false);
  });

  it('pushes events to live app windows only', () => {
    const listeners = new Set<(e: EventName, p: unknown) => void>();
    const endpoint: ApiEndpoint = {
      callUnknown: async () => ({ ok: true, value: null }),
      onAnyEvent: (l) => {
        listeners.add(l);
        return () => listeners.delete(l);
      },
    };
    const sent: [string, unknown[]][] = [];
    const target = (name: string, url: string, destroyed = false): EventTarget => ({
      getURL: () => url,
      isDestroyed: () => destroyed,
      send: (channel, ...args) => sent.push([name, [channel, ...args]]),
    });
    const targets = [target('app', APP), target('web', 'https://example.com/'), target('gone', APP, true)];
    const stop = relayEvents(endpoint, () => targets, isAppUrl);
    listeners.forEach((l) => l('dataset.removed', { name: 'x' }));
    expect(sent).toEqual([['app', [EVENT_CHANNEL, 'dataset.removed', { name: 'x' }]]]);
    stop();
    expect(listeners.size).toBe(0);
  });
});
