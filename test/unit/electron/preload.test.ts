import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runInNewContext } from 'node:vm';
import { beforeAll, describe, expect, it } from 'vitest';
import { eventNames } from '../../../core/api/events.ts';
import { methodNames } from '../../../core/api/methods.ts';
import { buildPreload } from '../../../electron/build.ts';
import { CALL_CHANNEL, EVENT_CHANNEL } from '../../../electron/ipc-channels.ts';

interface Bridge {
  methods: string[];
  events: string[];
  call(method: unknown, input: unknown): Promise<unknown>;
  on(event: unknown, listener: unknown): () => void;
}

/**
 * Runs the built preload the way a sandboxed renderer does: a CommonJS script whose `require` knows only
 * 'electron', here a fake contextBridge and ipcRenderer that record what the preload does.
 */
function loadPreload(code: string) {
  const exposed: Record<string, unknown> = {};
  const invoked: unknown[][] = [];
  const pushListeners: ((event: unknown, ...args: unknown[]) => void)[] = [];
  const required: string[] = [];
  const electron = {
    contextBridge: {
      exposeInMainWorld(key: string, api: unknown) {
        exposed[key] = api;
      },
    },
    ipcRenderer: {
      invoke(...args: unknown[]) {
        // Like Electron, which cannot clone a function into a message.
        if (typeof args[2] === 'function') return Promise.reject(new Error('An object could not be cloned.'));
        invoked.push(args);
        return Promise.resolve({ ok: true, value: 'answered' });
      },
      on(channel: string, listener: (event: unknown, ...args: unknown[]) => void) {
        expect(channel).toBe(EVENT_CHANNEL);
        pushListeners.push(listener);
      },
    },
  };
  const module = { exports: {} };
  runInNewContext(code, {
    require: (name: string) => {
      required.push(name);
      if (name !== 'electron') throw new Error(`a sandboxed preload cannot require '${name}'`);
      return electron;
    },
    module,
    exports: module.exports,
  });
  const push = (...args: unknown[]) => pushListeners.forEach((l) => l({}, ...args));
  return { exposed, invoked, push, required };
}

let code = '';
beforeAll(async () => {
  const out = mkdtempSync(join(tmpdir(), 'emonas-preload-'));
  code = readFileSync(await buildPreload(out), 'utf8');
}, 60_000);

describe('the preload bridge', () => {
  it('requires nothing but electron and exposes exactly window.emonas = { call, on, methods, events }', () => {
    const { exposed, required } = loadPreload(code);
    expect(new Set(required)).toEqual(new Set(['electron']));
    expect(Object.keys(exposed)).toEqual(['emonas']);
    const bridge = exposed.emonas as Bridge;
    expect(Object.keys(bridge).sort()).toEqual(['call', 'events', 'methods', 'on']);
    expect(bridge.methods).toEqual(methodNames);
    expect(bridge.events).toEqual(eventNames);
  });

  it('forwards every contract method over the call channel, and no other name', async () => {
    const { exposed, invoked } = loadPreload(code);
    const bridge = exposed.emonas as Bridge;
    for (const method of methodNames) {
      await expect(bridge.call(method, { x: 1 })).resolves.toEqual({ ok: true, value: 'answered' });
    }
    expect(invoked).toEqual(methodNames.map((m) => [CALL_CHANNEL, m, { x: 1 }]));
    for (const bad of ['fs.readFile', 'constructor', '__proto__', 'toString', 42, undefined]) {
      await expect(bridge.call(bad, {})).resolves.toMatchObject({
        ok: false,
        error: { code: 'bad_request' },
      });
    }
    expect(invoked).toHaveLength(methodNames.length);
    await expect(bridge.call('dataset.list', () => 1)).resolves.toMatchObject({
      ok: false,
      error: { code: 'bad_request', message: expect.stringContaining('could not be cloned') },
    });
  });

  it('delivers contract events to their listeners only, and stops after unsubscribing', () => {
    const { exposed, push } = loadPreload(code);
    const bridge = exposed.emonas as Bridge;
    const seen: unknown[] = [];
    for (const event of eventNames) {
      const off = bridge.on(event, (payload: unknown) => seen.push([event, payload]));
      push(event, { n: 1 });
      off();
      push(event, { n: 2 });
    }
    expect(seen).toEqual(eventNames.map((e) => [e, { n: 1 }]));
    push('made.up', {});
    expect(seen).toHaveLength(eventNames.length);
    expect(() => bridge.on('made.up', () => undefined)).toThrow(/no API event/);
    expect(() => bridge.on(eventNames[0], 'not a function')).toThrow(/must be a function/);
  });
});
