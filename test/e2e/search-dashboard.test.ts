// End to end: the built renderer in Debian's Chromium, driven with playwright-core, against the real
// `emonas serve` command on a copy of 12 real Task04 hippocampus cases: the failure messages of a folder
// that is not a dataset and of a corrupt one, the search wizard step by step (with an invalid combination
// explained before start), a tiny real search watched on the dashboard to its end with pause and resume,
// its front, and the engine killed mid-run (the UI says so, reconnects to the restarted engine, and shows
// the run as interrupted and resumable). Screenshots of every step go to test-artifacts/screenshots/.
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type BrowserContext, type Page } from 'playwright-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { requireChromium, type PageProblems } from './chromium.ts';
import { copyHippocampusCases } from './hippocampus-copy.ts';
import {
  callEngine,
  closeAppAfterTests,
  freePort,
  openApp,
  startServe,
  type ServeProcess,
} from './serve-process.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SHOTS = join(ROOT, 'test-artifacts', 'screenshots');
const TOKEN = 'e2e-search-dashboard-token-0123456789';

let dataDir: string;
let port: number;
let serve: ServeProcess;
let context: BrowserContext;
let page: Page;
let problems: PageProblems;

const shot = (name: string) => page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: false });

beforeAll(async () => {
  requireChromium();
  mkdirSync(SHOTS, { recursive: true });
  dataDir = mkdtempSync(join(tmpdir(), 'emonas-e2e-search-'));
  port = await freePort();
  // The engine is killed on purpose below; the browser logs the refused reconnections.
  ({ serve, context, page, problems } = await openApp(dataDir, /WebSocket connection/, {
    port,
    token: TOKEN,
  }));
  await page.goto(serve.appUrl);
  await page.getByText('Engine connected').waitFor();
}, 180_000);

closeAppAfterTests(() => ({ context, serve }), shot);

async function checkFolder(folder: string): Promise<void> {
  await page.getByRole('button', { name: 'Import a dataset…' }).click();
  await page.getByLabel('Dataset folder').fill(folder);
  await page.getByRole('button', { name: 'Check the folder' }).click();
}

describe('datasets that cannot be used, in words', () => {
  it('says a folder is not a dataset, and how to find the right one', async () => {
    const notADataset = mkdtempSync(join(tmpdir(), 'emonas-e2e-notes-'));
    writeFileSync(join(notADataset, 'notes.txt'), 'meeting notes');
    mkdirSync(join(notADataset, 'scans'));
    await checkFolder(notADataset);
    const alert = page.getByRole('alert');
    await alert.waitFor();
    const text = (await alert.textContent()) ?? '';
    expect(text).toContain(notADataset);
    expect(text).toMatch(/Point at the top folder of the dataset/);
    await shot('search-00-not-a-dataset');
    await page.getByRole('button', { name: 'Cancel' }).click();
  });

  it('says a corrupt dataset.json is corrupt, and lists a cut-short case as broken', async () => {
    const corrupt = copyHippocampusCases(3);
    writeFileSync(join(corrupt, 'dataset.json'), '{"name": "Hippocampus", "training": [');
    await checkFolder(corrupt);
    const alert = page.getByRole('alert');
    await alert.waitFor();
    expect(await alert.textContent()).toContain('dataset.json');
    await page.getByRole('button', { name: 'Cancel' }).click();

    const damaged = copyHippocampusCases(3);
    const meta = JSON.parse(readFileSync(join(damaged, 'dataset.json'), 'utf8')) as {
      training: { image: string }[];
    };
    const image = join(damaged, (meta.training[1] as { image: string }).image);
    writeFileSync(image, readFileSync(image).subarray(0, 300));
    await checkFolder(damaged);
    await page.getByTestId('broken-count').waitFor({ timeout: 60_000 });
    expect(await page.getByTestId('broken-count').textContent()).toBe('1 case');
    expect(await page.getByTestId('usable-count').textContent()).toBe('2 cases of 3');
    await shot('search-00-corrupt-case');
    await page.getByRole('button', { name: 'Back' }).click();
    await page.getByRole('button', { name: 'Cancel' }).click();
  });
});

describe('a tiny search from the wizard to its front', () => {
  it('imports 12 real cases', async () => {
    await checkFolder(copyHippocampusCases(12));
    await page.getByTestId('usable-count').waitFor({ timeout: 60_000 });
    await page.getByLabel('Name in the library').fill('Hippocampus12');
    await page.getByRole('button', { name: 'Import 12 usable cases' }).click();
    await page.getByRole('button', { name: 'Show the datasets' }).click({ timeout: 60_000 });
  });

  it('walks the wizard: dataset, preset, settings with an invalid combination explained, the estimate', async () => {
    await page.getByRole('button', { name: 'Searches' }).click();
    await page.getByRole('button', { name: 'New search…' }).click();
    await page.getByRole('radio', { name: /^Hippocampus12/ }).check();
    await shot('search-01-dataset');
    await page.getByRole('button', { name: 'Next' }).click();
    await page.getByRole('radio', { name: /^Custom/ }).check();
    await shot('search-02-preset');
    await page.getByRole('button', { name: 'Next' }).click();

    await page.getByLabel('Population').fill('3');
    await page.getByLabel('Generations').fill('2');
    await page.getByLabel('Epochs per candidate').fill('1');
    await page.getByLabel('Steps per epoch').fill('2');
    await page.getByLabel('Patch size (voxels)').fill('16 x 16 x 16');
    // Seed 107 draws small first networks here (5.3 million parameters in all), which keeps this test short.
    await page.getByLabel('Seed').fill('107');
    await page.getByLabel('Workers').fill('4');
    await page.getByText(/Only 3 networks train per generation/).waitFor();
    await page.getByText(/would never be used/).waitFor();
    expect(await page.getByRole('button', { name: 'Next: estimate' }).isDisabled()).toBe(true);
    await shot('search-03-settings-invalid');
    await page.getByLabel('Workers').fill('1');
    await page.getByLabel('Surrogate model on').uncheck();
    expect(await page.getByRole('button', { name: 'Next: estimate' }).isEnabled()).toBe(true);
    await shot('search-04-settings');

    await page.getByRole('button', { name: 'Next: estimate' }).click();
    const estimate = page.getByTestId('estimate');
    await estimate.waitFor({ timeout: 120_000 });
    const text = (await estimate.textContent()) ?? '';
    expect(text).toMatch(/6 candidates/);
    expect(text).toMatch(/16 × 16 × 16 patch/);
    expect(text).toMatch(/s per training step/);
    await shot('search-05-estimate');
  }, 180_000);

  it('starts, shows progress live, pauses and resumes, and ends with the front', async () => {
    await page.getByRole('button', { name: 'Start the search' }).click();
    await page.getByRole('heading', { name: /^Search run-/ }).waitFor();
    await page.getByText('running', { exact: true }).waitFor();
    await page.getByText(/Training now/).waitFor({ timeout: 60_000 });
    await shot('search-06-dashboard-running');

    await page.getByRole('button', { name: 'Pause' }).click();
    await page.getByText('paused', { exact: true }).waitFor({ timeout: 60_000 });
    await page.getByText(/This search is paused/).waitFor();
    await shot('search-07-dashboard-paused');
    await page.getByRole('button', { name: 'Resume' }).click();
    await page.getByText('running', { exact: true }).waitFor();

    // Generous: six trainings on a shared 2-core machine can take minutes when others load it.
    await page.getByText('finished', { exact: true }).waitFor({ timeout: 360_000 });
    expect(await page.getByTestId('candidates-done').textContent()).toBe('6');
    const front = page.getByRole('button', { name: /on the front/ });
    expect(await front.count()).toBeGreaterThan(0);
    await front.first().click();
    await page.getByRole('heading', { name: /^Candidate g\d+-c\d+$/ }).waitFor();
    await page.getByRole('group', { name: /^Learning curves of/ }).waitFor();
    await shot('search-08-dashboard-finished');
    await page.screenshot({ path: join(SHOTS, 'search-08-dashboard-finished-full.png'), fullPage: true });
  }, 480_000);
});

describe('an engine that dies mid-run', () => {
  it('says so, reconnects to the restarted engine, and shows the run interrupted and resumable', async () => {
    // The wizard was walked above; this search is started the way a script would, over the API.
    const run = await callEngine<{ runId: string }>(serve, 'search.start', {
      dataset: 'Hippocampus12',
      config: {
        algorithm: 'samea',
        preset: 'quick',
        population: 3,
        generations: 2,
        learningGenerations: 1,
        seed: 107,
        surrogate: { enabled: false },
      },
      problem: { epochs: 3, stepsPerEpoch: 4, patch: [16, 16, 16] },
    });
    await page.getByRole('button', { name: '← All searches' }).click();
    await page.getByRole('button', { name: `Open ${run.runId}` }).click();
    await page.getByText(/Training now/).waitFor({ timeout: 60_000 });

    await serve.kill();
    const lost = page.getByRole('alert').filter({ hasText: 'The engine stopped answering' });
    await lost.waitFor({ timeout: 30_000 });
    expect(await lost.textContent()).toMatch(/interrupted, not lost/);
    await shot('search-09-engine-lost');

    // Reconnecting while the engine is still down tries, fails, and says so again.
    await lost.getByRole('button', { name: 'Reconnect now' }).click();
    await lost.waitFor({ timeout: 30_000 });
    // Restarted on the same port with the same token, the app finds it again on its own.
    serve = await startServe(dataDir, { port, token: TOKEN });
    await page.getByText('Engine connected').waitFor({ timeout: 30_000 });
    expect(await lost.count()).toBe(0);
    await page.getByText('interrupted', { exact: true }).waitFor({ timeout: 30_000 });
    await page.getByText(/This search was interrupted/).waitFor();
    await shot('search-10-interrupted');

    await page.getByRole('button', { name: 'Resume' }).click();
    await page.getByText('running', { exact: true }).waitFor({ timeout: 30_000 });
    await page.getByRole('button', { name: 'Cancel…' }).click();
    await page.getByRole('button', { name: 'Cancel the search' }).click();
    await page.getByText('cancelled', { exact: true }).waitFor({ timeout: 60_000 });
  }, 180_000);

  it('made no request beyond this machine and broke no content-security rule', () => {
    expect(problems.foreign).toEqual([]);
    expect(problems.console).toEqual([]);
  });
});
