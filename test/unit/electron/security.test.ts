import { describe, expect, it } from 'vitest';
import type { Session, WebContents } from 'electron';
import {
  hardenContents,
  hardenSession,
  isAllowedRequest,
  secureWebPreferences,
} from '../../../electron/security.ts';

describe('Electron security settings', () => {
  it('isolates, sandboxes and keeps Node out of every window', () => {
    const prefs = secureWebPreferences('/x/preload.cjs', true);
    expect(prefs).toMatchObject({
      preload: '/x/preload.cjs',
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
      spellcheck: false,
    });
  });

  it('turns DevTools off in a packaged build and leaves them on in development', () => {
    expect(secureWebPreferences('/x/preload.cjs', true).devTools).toBe(false);
    expect(secureWebPreferences('/x/preload.cjs', false).devTools).toBe(true);
  });

  it('lets pages reach only the app itself and engines on this machine', () => {
    for (const url of [
      'app://emonas/index.html',
      'ws://127.0.0.1:8765/api?token=x',
      'ws://localhost:1/api',
      'data:image/png;base64,AA',
    ]) {
      expect(isAllowedRequest(url), url).toBe(true);
    }
    for (const url of [
      'https://example.com/',
      'http://127.0.0.1:8765/',
      'ws://10.0.0.2:8765/api',
      'wss://example.com/',
      'file:///etc/passwd',
      'app://other/x',
      'ftp://x/',
      'not a url',
    ]) {
      expect(isAllowedRequest(url), url).toBe(false);
    }
  });

  it('refuses every permission and every outgoing request the policy does not allow', () => {
    const handlers: Record<string, (...args: never[]) => unknown> = {};
    const fake = {
      setPermissionRequestHandler: (h: never) => (handlers.request = h),
      setPermissionCheckHandler: (h: never) => (handlers.check = h),
      setDevicePermissionHandler: (h: never) => (handlers.device = h),
      setDisplayMediaRequestHandler: (h: never) => (handlers.display = h),
      webRequest: { onBeforeRequest: (h: never) => (handlers.web = h) },
    };
    hardenSession(fake as unknown as Session);
    const answers: unknown[] = [];
    const request = handlers.request as unknown as (c: unknown, p: string, cb: (v: boolean) => void) => void;
    for (const permission of ['media', 'geolocation', 'notifications', 'openExternal', 'fileSystem']) {
      request({}, permission, (granted) => answers.push(granted));
    }
    expect(answers).toEqual([false, false, false, false, false]);
    expect((handlers.check as unknown as () => boolean)()).toBe(false);
    expect((handlers.device as unknown as () => boolean)()).toBe(false);
    const web = handlers.web as unknown as (d: { url: string }, cb: (r: { cancel: boolean }) => void) => void;
    const cancelled: boolean[] = [];
    web({ url: 'https://tracker.example/' }, (r) => cancelled.push(r.cancel));
    web({ url: 'app://emonas/index.html' }, (r) => cancelled.push(r.cancel));
    expect(cancelled).toEqual([true, false]);
  });

  it('blocks navigation away from the app, new windows and webviews', () => {
    const listeners: Record<string, (event: { url?: string; preventDefault(): void }) => void> = {};
    let openHandler: (() => { action: string }) | undefined;
    const fake = {
      setWindowOpenHandler: (h: () => { action: string }) => (openHandler = h),
      on: (name: string, listener: (event: { url?: string; preventDefault(): void }) => void) => {
        listeners[name] = listener;
      },
    };
    hardenContents(fake as unknown as WebContents);
    expect(openHandler?.()).toEqual({ action: 'deny' });
    const prevented = (name: string, url?: string) => {
      let stopped = false;
      listeners[name]?.({ url, preventDefault: () => (stopped = true) });
      return stopped;
    };
    for (const name of ['will-navigate', 'will-frame-navigate', 'will-redirect']) {
      expect(prevented(name, 'https://example.com/'), name).toBe(true);
      expect(prevented(name, 'file:///etc/passwd'), name).toBe(true);
      expect(prevented(name, 'app://emonas/index.html'), name).toBe(false);
    }
    expect(prevented('will-attach-webview')).toBe(true);
  });
});
