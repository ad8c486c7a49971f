// Runs in: the Electron main process. The Electron security checklist applied once, here: window settings
// (context isolation, sandbox, no Node, no DevTools once packaged), no navigation away from the app, no new
// windows, no webviews, every permission refused, and no request leaving the machine (patient data stays
// on it).
import type { Session, WebContents, WebPreferences } from 'electron';
import { APP_SCHEME, isAppUrl } from './app-protocol.ts';

/** `packaged`: the installed app (Electron's app.isPackaged), where DevTools would only open a way in. */
export function secureWebPreferences(preload: string, packaged: boolean): WebPreferences {
  return {
    preload,
    devTools: !packaged,
    contextIsolation: true,
    sandbox: true,
    nodeIntegration: false,
    nodeIntegrationInWorker: false,
    nodeIntegrationInSubFrames: false,
    webSecurity: true,
    allowRunningInsecureContent: false,
    experimentalFeatures: false,
    webviewTag: false,
    navigateOnDragDrop: false,
    // Chromium's spellchecker downloads dictionaries from Google.
    spellcheck: false,
    safeDialogs: true,
  };
}

/**
 * Which requests a page may make: the app's own files, and WebSocket connections to this machine (the
 * renderer may talk to an `emonas serve` engine reached through an SSH tunnel). Everything else is refused.
 */
export function isAllowedRequest(url: string): boolean {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return false;
  }
  if (parsed.protocol === `${APP_SCHEME}:`) return isAppUrl(url);
  if (parsed.protocol === 'data:' || parsed.protocol === 'blob:' || parsed.protocol === 'devtools:')
    return true;
  if (parsed.protocol === 'ws:') return parsed.hostname === '127.0.0.1' || parsed.hostname === 'localhost';
  return false;
}

export function hardenSession(session: Session): void {
  session.setPermissionRequestHandler((_contents, _permission, callback) => callback(false));
  session.setPermissionCheckHandler(() => false);
  session.setDevicePermissionHandler(() => false);
  session.setDisplayMediaRequestHandler((_request, callback) => callback({}));
  session.webRequest.onBeforeRequest((details, callback) =>
    callback({ cancel: !isAllowedRequest(details.url) }),
  );
}

export function hardenContents(contents: WebContents): void {
  contents.setWindowOpenHandler(() => ({ action: 'deny' }));
  contents.on('will-navigate', (event) => {
    if (!isAppUrl(event.url)) event.preventDefault();
  });
  contents.on('will-frame-navigate', (event) => {
    if (!isAppUrl(event.url)) event.preventDefault();
  });
  contents.on('will-redirect', (event) => {
    if (!isAppUrl(event.url)) event.preventDefault();
  });
  contents.on('will-attach-webview', (event) => event.preventDefault());
}
