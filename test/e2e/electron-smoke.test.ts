// The desktop app in real Electron: the window opens on app://emonas with the security settings in force
// and the engine answers over IPC. Runs where the Electron binary is installed (npm run electron:fetch);
// machines without it (no network for the download) skip it, saying so.
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { _electron as electron, type ElectronApplication } from 'playwright-core';
import { buildRendererOnce } from './renderer-build.ts';
import { afterAll, describe, expect, it } from 'vitest';
import { buildMain, buildPreload } from '../../electron/build.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const DIST = join(ROOT, 'node_modules', 'electron', 'dist');
const BINARY = join(
  DIST,
  process.platform === 'win32'
    ? 'electron.exe'
    : process.platform === 'darwin'
      ? 'Electron.app/Contents/MacOS/Electron'
      : 'electron',
);
const present = existsSync(BINARY);
const title = present
  ? 'the desktop app in real Electron'
  : 'the desktop app in real Electron (skipped: no Electron binary here, node_modules/electron has no dist/; npm run electron:fetch installs it where the network allows)';

let app: ElectronApplication | undefined;
afterAll(async () => {
  await app?.close();
});

describe.skipIf(!present)(title, () => {
  it('opens a sandboxed, isolated window whose bridge reaches the engine and nothing else', async () => {
    await buildRendererOnce();
    await buildPreload();
    const main = await buildMain();
    app = await electron.launch({
      executablePath: BINARY,
      args: [main],
      env: { ...process.env, EMONAS_DATA_DIR: mkdtempSync(join(tmpdir(), 'emonas-electron-')) },
    });
    const page = await app.firstWindow();
    await page.getByText('Engine connected').waitFor();
    expect(page.url()).toBe('app://emonas/index.html');
    const surface = await page.evaluate(() => ({
      bridge: Object.keys((window as unknown as { emonas: object }).emonas).sort(),
      require: typeof (window as unknown as { require?: unknown }).require,
      process: typeof (window as unknown as { process?: unknown }).process,
    }));
    expect(surface).toEqual({
      bridge: ['call', 'events', 'methods', 'on'],
      require: 'undefined',
      process: 'undefined',
    });
    const list = await page.evaluate(() =>
      (window as unknown as { emonas: { call(m: string, i: unknown): Promise<unknown> } }).emonas.call(
        'dataset.list',
        {},
      ),
    );
    expect(list).toEqual({ ok: true, value: [] });
    await page.evaluate(() => {
      window.location.href = 'https://example.com/';
    });
    await page.waitForTimeout(500);
    expect(page.url()).toBe('app://emonas/index.html');
    const windows = await app.evaluate(({ BrowserWindow }) => BrowserWindow.getAllWindows().length);
    expect(windows).toBe(1);
  });
});
