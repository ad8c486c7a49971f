// Runs in: the Electron main process. Binds the API contract to Electron IPC: one invoke channel for calls,
// one push channel for events. Every call is checked for who sent it (the app's own top-level page, nothing
// else) and for what it carries (the engine parses the input against the contract), and is answered with the
// result envelope; nothing a page sends can throw through to Electron.
import { EmonasError, toErrorData } from '../core/base/errors.ts';
import type { ApiEndpoint, Unsubscribe } from '../core/api/client.ts';
import { fail, type Result } from '../core/api/envelope.ts';
import { CALL_CHANNEL, EVENT_CHANNEL } from './ipc-channels.ts';

/** The part of Electron's WebFrameMain the sender check reads. */
export interface SenderFrame {
  url: string;
  parent: unknown;
}

/** The part of IpcMainInvokeEvent the binding reads. */
export interface InvokeEvent {
  senderFrame: SenderFrame | null;
}

/** The part of Electron's ipcMain the binding uses, so tests can pass a stand-in. */
export interface IpcMainLike {
  handle(channel: string, listener: (event: InvokeEvent, ...args: unknown[]) => Promise<unknown>): void;
  removeHandler(channel: string): void;
}

/** A window's contents, as far as event delivery needs. */
export interface EventTarget {
  getURL(): string;
  send(channel: string, ...args: unknown[]): void;
  isDestroyed(): boolean;
}

/** True for pages the app itself serves (see electron/app-protocol.ts). */
export type TrustedUrl = (url: string) => boolean;

export function bindIpc(ipcMain: IpcMainLike, endpoint: ApiEndpoint, isTrusted: TrustedUrl): Unsubscribe {
  ipcMain.handle(CALL_CHANNEL, async (event, ...args): Promise<Result<unknown>> => {
    const frame = event.senderFrame;
    if (!frame || frame.parent !== null || !isTrusted(frame.url)) {
      return fail(
        new EmonasError(
          'bad_request',
          'A request came from a page that is not Emonas Studio and was refused.',
        ).toData(),
      );
    }
    if (args.length !== 2) {
      return fail(
        new EmonasError(
          'bad_request',
          `A call carries a method name and one input, not ${args.length} values.`,
        ).toData(),
      );
    }
    try {
      return await endpoint.callUnknown(args[0], args[1]);
    } catch (err) {
      return fail(toErrorData(err));
    }
  });
  return () => ipcMain.removeHandler(CALL_CHANNEL);
}

/** Pushes every engine event to the windows showing the app's own pages. */
export function relayEvents(
  endpoint: ApiEndpoint,
  targets: () => EventTarget[],
  isTrusted: TrustedUrl,
): Unsubscribe {
  return endpoint.onAnyEvent((name, payload) => {
    for (const target of targets()) {
      if (!target.isDestroyed() && isTrusted(target.getURL())) target.send(EVENT_CHANNEL, name, payload);
    }
  });
}
