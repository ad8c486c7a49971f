// The app's main process with a stand-in for 'electron': the window it opens has DevTools off once the app
// is packaged (app.isPackaged), and on in development.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { BrowserWindowConstructorOptions } from 'electron';

/** Records every window main.ts opens; everything else it calls does nothing. */
function electronStandIn(isPackaged: boolean) {
  const windows: BrowserWindowConstructorOptions[] = [];
  const noop = () => undefined;
  class BrowserWindow {
    static getAllWindows = () => [];
    static getFocusedWindow = () => null;
    constructor(options: BrowserWindowConstructorOptions) {
      windows.push(options);
    }
    once = noop;
    show = noop;
    loadURL = () => Promise.resolve();
  }
  const module = {
    app: {
      isPackaged,
      enableSandbox: noop,
      on: noop,
      quit: noop,
      requestSingleInstanceLock: () => true,
      whenReady: () => Promise.resolve(),
    },
    BrowserWindow,
    dialog: {},
    ipcMain: { handle: noop, removeHandler: noop },
    protocol: { registerSchemesAsPrivileged: noop },
    session: {
      defaultSession: {
        setPermissionRequestHandler: noop,
        setPermissionCheckHandler: noop,
        setDevicePermissionHandler: noop,
        setDisplayMediaRequestHandler: noop,
        webRequest: { onBeforeRequest: noop },
        protocol: { handle: noop },
      },
    },
    utilityProcess: { fork: noop },
  };
  return { module, windows };
}

afterEach(() => {
  vi.doUnmock('electron');
  vi.resetModules();
  vi.unstubAllEnvs();
});

async function windowOpened(isPackaged: boolean): Promise<BrowserWindowConstructorOptions> {
  vi.stubEnv('EMONAS_DATA_DIR', mkdtempSync(join(tmpdir(), 'emonas-devtools-')));
  const standIn = electronStandIn(isPackaged);
  vi.resetModules();
  vi.doMock('electron', () => ({ ...standIn.module, default: standIn.module }));
  await import('../../../electron/main.ts');
  await vi.waitFor(() => expect(standIn.windows).toHaveLength(1));
  return standIn.windows[0]!;
}

describe('DevTools', () => {
  it('are off in a packaged build', async () => {
    const window = await windowOpened(true);
    expect(window.webPreferences).toMatchObject({ devTools: false, contextIsolation: true, sandbox: true });
  });

  it('stay on in development', async () => {
    const window = await windowOpened(false);
    expect(window.webPreferences?.devTools).toBe(true);
  });
});
