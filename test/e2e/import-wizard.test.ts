// End to end: the built renderer in Debian's Chromium, driven with playwright-core, against the real
// `emonas serve` command, importing the real Task04 hippocampus data through the wizard.
import { CHROMIUM, launchChromium } from './chromium.ts';
import { existsSync, mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type BrowserContext, type Page } from 'playwright-core';
import { buildRendererOnce } from './renderer-build.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServe, type ServeProcess } from './serve-process.ts';
import { realHippocampusFolder } from '../fixtures/hippocampus.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const HIPPOCAMPUS = realHippocampusFolder();
const SHOTS = join(ROOT, 'test-artifacts', 'screenshots');

let serve: ServeProcess;
let context: BrowserContext;
let page: Page;
const consoleProblems: string[] = [];
const foreignRequests: string[] = [];

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `The end-to-end tests need Debian's Chromium at ${CHROMIUM}: apt-get install chromium (CI does).`,
    );
  }
  if (!existsSync(join(HIPPOCAMPUS, 'dataset.json'))) {
    throw new Error(`The end-to-end tests need the Task04 hippocampus data at ${HIPPOCAMPUS}.`);
  }
  mkdirSync(SHOTS, { recursive: true });
  await buildRendererOnce();
  serve = await startServe(mkdtempSync(join(tmpdir(), 'emonas-e2e-')));
  context = await launchChromium();
  page = context.pages()[0] ?? (await context.newPage());
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') consoleProblems.push(m.text());
  });
  page.on('pageerror', (e) => consoleProblems.push(e.message));
  page.on('request', (r) => {
    if (!r.url().startsWith('http://127.0.0.1:') && !r.url().startsWith('ws://127.0.0.1:'))
      foreignRequests.push(r.url());
  });
}, 120_000);

afterAll(async () => {
  await context?.close();
  await serve?.stop();
});

const shot = (name: string) => page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: false });

describe('the app in Chromium against emonas serve', () => {
  it('opens at the printed address, connects, and drops the token from the address bar', async () => {
    await page.goto(serve.appUrl);
    await page.getByText('Engine connected').waitFor();
    expect(page.url()).not.toContain(serve.token);
    expect(await page.title()).toBe('Datasets – Emonas Studio');
    await page.getByText('The library is empty').waitFor();
    await shot('01-datasets-empty');
  });

  it('imports the Task04 hippocampus folder through the wizard and sees 200 usable cases', async () => {
    await page.getByRole('button', { name: 'Import a dataset…' }).click();
    await page.getByLabel('Dataset folder').fill(HIPPOCAMPUS);
    await shot('02-wizard-folder');
    await page.getByRole('button', { name: 'Check the folder' }).click();
    await page.getByTestId('usable-count').waitFor({ timeout: 60_000 });
    expect(await page.getByTestId('usable-count').textContent()).toBe('200 cases of 200');
    expect(await page.getByTestId('broken-count').textContent()).toBe('0 cases');
    await page.getByText('0 background, 1 Anterior, 2 Posterior').waitFor();
    await shot('03-wizard-report');
    expect(await page.getByLabel('Name in the library').inputValue()).toBe('Hippocampus');
    await page.getByRole('button', { name: 'Import 200 usable cases' }).click();
    await page
      .getByRole('status')
      .getByText('Hippocampus is in the library with 200 usable cases')
      .waitFor({ timeout: 60_000 });
    await shot('04-wizard-done');
    await page.getByRole('button', { name: 'Show the datasets' }).click();
    await page.getByRole('rowheader', { name: 'Hippocampus' }).waitFor();
    await shot('05-datasets-list');
  });

  it('opens the dataset and shows a slice of a case with its label map, sent as binary voxels', async () => {
    await page.getByRole('button', { name: 'Open' }).click();
    await page.getByLabel('Case', { exact: true }).selectOption('hippocampus_001');
    const canvas = page.getByLabel(/^Slice \d+ of hippocampus_001$/);
    await canvas.waitFor();
    const colours = await canvas.evaluate((c: HTMLCanvasElement) => {
      const { data } = (c.getContext('2d') as CanvasRenderingContext2D).getImageData(0, 0, c.width, c.height);
      let grey = 0;
      let tinted = 0;
      for (let i = 0; i < data.length; i += 4) {
        const [r, g, b] = [data[i] as number, data[i + 1] as number, data[i + 2] as number];
        if (r === g && g === b && r > 0) grey++;
        else if (r !== g || g !== b) tinted++;
      }
      return { width: c.width, height: c.height, grey, tinted };
    });
    expect(colours.width * colours.height).toBeGreaterThan(1000);
    expect(colours.grey).toBeGreaterThan(100);
    expect(colours.tinted).toBeGreaterThan(10);
    await shot('06-dataset-case');
    await page.getByRole('button', { name: '← All datasets' }).click();
  });

  it('shows a wrong folder as a sentence with the way forward', async () => {
    await page.getByRole('button', { name: 'Import a dataset…' }).click();
    await page.getByLabel('Dataset folder').fill('/work/shared/data/no-such-folder');
    await page.getByRole('button', { name: 'Check the folder' }).click();
    const alert = page.getByRole('alert');
    await alert.waitFor();
    expect(await alert.textContent()).toContain('/work/shared/data/no-such-folder');
    await shot('07-wizard-error');
    await page.getByRole('button', { name: 'Cancel' }).click();
  });

  it('reaches every page by keyboard and shows the training backend under Settings', async () => {
    // Start from the top of the page, as after a fresh load.
    await page.getByText('Emonas Studio', { exact: true }).click();
    const visited: (string | undefined)[] = [];
    for (let i = 0; i < 4; i++) {
      await page.keyboard.press('Tab');
      visited.push(await page.evaluate(() => document.activeElement?.textContent?.trim()));
    }
    expect(visited, 'the navigation in tab order').toEqual([
      'Datasets',
      'Searches',
      'Apply to scans',
      'Settings',
    ]);
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Settings', level: 1 }).waitFor();
    await page.getByText(/Training runs on/).waitFor({ timeout: 60_000 });
    await shot('08-settings');
  });

  it('made no request beyond this machine and broke no content-security rule', () => {
    expect(foreignRequests).toEqual([]);
    expect(consoleProblems).toEqual([]);
  });
});
