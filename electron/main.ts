// Runs in: the Electron main process (built to dist/electron/main.mjs by electron/build.ts; the preload and
// the renderer sit next to it in dist/). Hosts the engine, serves the renderer on app://emonas, binds the
// API to IPC, and applies the security settings of electron/security.ts before any window exists.
import { fileURLToPath } from 'node:url';
import { app, BrowserWindow, dialog, ipcMain, protocol, session, utilityProcess } from 'electron';
import { createEngine, defaultDataDir } from '../core/service/index.ts';
import { APP_ENTRY, APP_SCHEME, isAppUrl, respondFromFolder } from './app-protocol.ts';
import { bindIpc, relayEvents } from './ipc.ts';
import { hardenContents, hardenSession, secureWebPreferences } from './security.ts';
import { chooseWorkerLaunchers } from './worker-launcher.ts';

const PRELOAD = fileURLToPath(new URL('./preload.cjs', import.meta.url));
const RENDERER = fileURLToPath(new URL('../renderer/', import.meta.url));
const TRAINING_WORKER = fileURLToPath(new URL('./training-worker.mjs', import.meta.url));
const PREDICTION_WORKER = fileURLToPath(new URL('./prediction-worker.mjs', import.meta.url));

// Must happen before 'ready': app:// becomes a standard, secure origin with fetch, like https.
protocol.registerSchemesAsPrivileged([
  { scheme: APP_SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: true } },
]);
app.enableSandbox();
app.on('web-contents-created', (_event, contents) => hardenContents(contents));

function createWindow(): BrowserWindow {
  const window = new BrowserWindow({
    width: 1280,
    height: 800,
    minWidth: 1024,
    minHeight: 700,
    title: 'Emonas Studio',
    show: false,
    webPreferences: secureWebPreferences(PRELOAD, app.isPackaged),
  });
  window.once('ready-to-show', () => window.show());
  void window.loadURL(APP_ENTRY);
  return window;
}

async function start(): Promise<void> {
  await app.whenReady();
  hardenSession(session.defaultSession);
  session.defaultSession.protocol.handle(APP_SCHEME, (request) => respondFromFolder(RENDERER, request.url));

  const launchers = chooseWorkerLaunchers(
    { utilityProcess },
    { training: TRAINING_WORKER, prediction: PREDICTION_WORKER },
  );
  const engine = createEngine({
    dataDir: defaultDataDir(),
    ...launchers,
    host: {
      async chooseFolder(title) {
        const parent = BrowserWindow.getFocusedWindow();
        const options = { title: title ?? 'Choose a dataset folder', properties: ['openDirectory' as const] };
        const chosen = parent
          ? await dialog.showOpenDialog(parent, options)
          : await dialog.showOpenDialog(options);
        return chosen.canceled ? null : (chosen.filePaths[0] ?? null);
      },
    },
  });
  bindIpc(ipcMain, engine, isAppUrl);
  relayEvents(engine, () => BrowserWindow.getAllWindows().map((w) => w.webContents), isAppUrl);
  // Running searches are paused (kept resumable) before the app exits.
  let closed = false;
  app.on('before-quit', (event) => {
    if (closed) return;
    event.preventDefault();
    void engine.close().finally(() => {
      closed = true;
      app.quit();
    });
  });

  createWindow();
  app.on('activate', () => {
    if (BrowserWindow.getAllWindows().length === 0) createWindow();
  });
}

if (!app.requestSingleInstanceLock()) {
  app.quit();
} else {
  app.on('second-instance', () => {
    const [window] = BrowserWindow.getAllWindows();
    if (window) {
      if (window.isMinimized()) window.restore();
      window.focus();
    }
  });
  app.on('window-all-closed', () => {
    if (process.platform !== 'darwin') app.quit();
  });
  void start();
}
