// Runs in: the Electron renderer's isolated preload world (sandboxed: bundled to one CommonJS file that
// requires only 'electron'). Exposes `window.emonas = { call, on, methods, events }` and nothing more: calls
// only for the contract's method names, listeners only for its event names. The page never sees
// ipcRenderer itself.
import { contextBridge, ipcRenderer } from 'electron';
import { EmonasError } from '../core/base/errors.ts';
import { fail, type Result } from '../core/api/envelope.ts';
import { eventNames, isEventName } from '../core/api/events.ts';
import { isMethodName, methodNames } from '../core/api/methods.ts';
import { CALL_CHANNEL, EVENT_CHANNEL } from './ipc-channels.ts';

type Listener = (payload: unknown) => void;
const listeners = new Map<string, Set<Listener>>();

ipcRenderer.on(EVENT_CHANNEL, (_event, name: unknown, payload: unknown) => {
  if (!isEventName(name)) return;
  for (const listener of listeners.get(name) ?? []) {
    try {
      listener(payload);
    } catch (err) {
      // One failing page listener must not keep the event from the others; the error still shows.
      queueMicrotask(() => {
        throw err;
      });
    }
  }
});

const bridge = {
  methods: [...methodNames],
  events: [...eventNames],
  call(method: unknown, input: unknown): Promise<Result<unknown>> {
    if (!isMethodName(method)) {
      const message = `There is no API method '${String(method)}'.`;
      return Promise.resolve(fail(new EmonasError('bad_request', message).toData()));
    }
    // An input IPC cannot carry (a function, a DOM node) rejects inside invoke; it is answered like any
    // other bad request.
    return (ipcRenderer.invoke(CALL_CHANNEL, method, input) as Promise<Result<unknown>>).catch(
      (err: unknown) =>
        fail(
          new EmonasError(
            'bad_request',
            `The request could not be sent to the engine: ${String(err)}`,
          ).toData(),
        ),
    );
  },
  on(event: unknown, listener: unknown): () => void {
    if (!isEventName(event)) throw new Error(`There is no API event '${String(event)}'.`);
    if (typeof listener !== 'function') throw new Error('An event listener must be a function.');
    const set = listeners.get(event) ?? new Set<Listener>();
    listeners.set(event, set);
    const wrapped: Listener = (payload) => (listener as Listener)(payload);
    set.add(wrapped);
    return () => set.delete(wrapped);
  },
};

contextBridge.exposeInMainWorld('emonas', bridge);
