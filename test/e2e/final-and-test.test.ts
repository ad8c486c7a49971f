// End to end: a search's job finished in the app, in Debian's Chromium driven with playwright-core against
// the real `emonas serve` command. Eight Task04 hippocampus cases are copied to a temp dataset and searched
// for real (a tiny SaMEA run, two candidates of one two-step epoch, two cases set aside as test cases). Then,
// as a researcher would: "Train this network fully" from a candidate with a tiny epoch budget, its progress
// and curves, pause and resume, the engine killed mid-training and restarted (the app shows the training as
// interrupted, and Resume finishes it), the final model on the run's page, its evaluation on the test cases
// (the table equal to what the engine wrote, worst first), a case opened side by side, and the run's HTML
// report with the test evaluation. Screenshots go to test-artifacts/screenshots/ (the README's pictures of
// these steps come from a real demo run instead: scripts/demo-screenshots.ts).
import { mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type BrowserContext, type Page } from 'playwright-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { readVolume } from '../../core/io/volume-files.ts';
import { labelCounts } from '../../renderer/src/viewer/viewer-model.ts';
import { searchedFront, tinySearchConfig } from '../fixtures/tiny-search.ts';
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
import { inStep, labelCount } from './viewer-panes.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SHOTS = join(ROOT, 'test-artifacts', 'screenshots');
const RUN_ID = 'run-e2e-final';
const TOKEN = 'e2e-final-and-test-token-0123456789';
/** Cornerstone logs this for every local volume (stack-notes section 5, pitfall 5); the engine is killed on purpose. */
const KNOWN_NOISE = /No imageId found within the specified criteria|WebSocket connection/;

let dataDir: string;
let port: number;
let serve: ServeProcess;
let context: BrowserContext;
let page: Page;
let problems: PageProblems;
let dataset: string;
let runDir: string;
let chosen: string;
let testIds: string[];

const shot = (name: string, fullPage = false) =>
  page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage });

const finalState = () => page.getByTestId('final-state').textContent();

beforeAll(async () => {
  requireChromium();
  mkdirSync(SHOTS, { recursive: true });
  dataDir = mkdtempSync(join(tmpdir(), 'emonas-e2e-final-'));
  dataset = copyHippocampusCases(8);
  runDir = join(dataDir, 'runs', RUN_ID);
  const front = await searchedFront({
    runDir,
    workers: 2,
    config: { algorithm: 'samea', preset: 'quick', ...tinySearchConfig() },
    problem: {
      kind: 'dataset',
      dataset,
      epochs: 1,
      stepsPerEpoch: 2,
      batchSize: 1,
      patch: [16, 16, 16],
      valFraction: 0.25,
      testFraction: 0.25,
      cacheDir: mkdtempSync(join(tmpdir(), 'emonas-e2e-final-cache-')),
    },
  });
  if (!front[0]) throw new Error('the tiny search should end with a front of at least one candidate');
  chosen = front[0].id;
  const training = JSON.parse(readFileSync(join(runDir, 'training.json'), 'utf8')) as {
    split: { test: string[] };
  };
  testIds = training.split.test;

  port = await freePort();
  ({ serve, context, page, problems } = await openApp(dataDir, KNOWN_NOISE, { port, token: TOKEN }));
}, 240_000);

closeAppAfterTests(
  () => ({ context, serve }),
  (name) => shot(`final-${name}`, true),
);

describe("a tiny run's network trained fully and evaluated on its test cases", () => {
  it('starts "Train this network fully" from a candidate, with progress, pause and resume', async () => {
    await page.goto(serve.appUrl);
    await page.getByText('Engine connected').waitFor();
    await page.getByRole('button', { name: 'Searches' }).click();
    await page.getByRole('button', { name: `Open ${RUN_ID}` }).click();
    await page.getByRole('heading', { name: 'Final model' }).waitFor();
    expect(await finalState()).toBe('not trained');
    await page.getByText('No final model yet').waitFor();

    const point = page.getByTestId(`point-${chosen}`);
    await point.waitFor({ timeout: 30_000 });
    await point.click();
    await page.getByRole('heading', { name: `Candidate ${chosen}` }).waitFor();
    // The candidate panel's button (the run's own, above it, trains the front's most accurate by default).
    await page.getByRole('button', { name: 'Train this network fully…' }).last().click();
    const form = page.getByRole('form', { name: 'Train this network fully' });
    expect(await form.getByLabel('Network').inputValue()).toBe(chosen);
    // Five epochs of two steps, or a minute, whichever ends first: long enough to pause and kill it.
    await form.getByLabel('Epochs').fill('5');
    await form.getByLabel('Steps per epoch').fill('2');
    await form.getByLabel('Time limit (minutes)').fill('1');
    await form.getByRole('button', { name: 'Start the final training' }).click();

    await expect.poll(finalState, { timeout: 20_000 }).toBe('training');
    const epochs = page.getByTestId('final-epochs');
    await expect
      .poll(async () => Number(await epochs.textContent()), { timeout: 120_000 })
      .toBeGreaterThanOrEqual(1);
    await page.getByRole('group', { name: 'Learning curves of the final training' }).waitFor();
    await page.getByRole('button', { name: 'Pause' }).click();
    await expect.poll(finalState, { timeout: 60_000 }).toBe('paused');
    await shot('final-01-paused');
    await page.getByRole('button', { name: 'Resume' }).click();
    await expect.poll(finalState, { timeout: 20_000 }).toBe('training');
  }, 150_000);

  it('shows the training as interrupted after the engine was killed and restarted, and Resume finishes it', async () => {
    await serve.kill();
    await page.getByText('Engine unreachable, retrying…').waitFor({ timeout: 30_000 });
    serve = await startServe(dataDir, { port, token: TOKEN });
    await page.getByText('Engine connected').waitFor({ timeout: 60_000 });
    await expect.poll(finalState, { timeout: 20_000 }).toBe('interrupted');
    await page.getByText('This final training was interrupted').waitFor();
    await page.getByRole('button', { name: 'Resume' }).click();
    await expect.poll(finalState, { timeout: 150_000 }).toBe('trained');
  }, 240_000);

  it("shows the final model on the run's page as the engine wrote it", async () => {
    const summary = JSON.parse(readFileSync(join(runDir, 'final', 'finalize.json'), 'utf8')) as {
      candidate: string;
      params: number;
      meanValDice: number;
      epochsRun: number;
    };
    expect(summary.candidate).toBe(chosen);
    const models = page.getByTestId('final-models');
    const text = (await models.textContent()) ?? '';
    expect(text).toContain(summary.params.toLocaleString('en'));
    expect(text).toContain(`${summary.epochsRun} epochs`);
    expect(await page.getByTestId('final-dice').textContent()).toContain(
      `mean ${summary.meanValDice.toFixed(3)}`,
    );
    // The curves of every epoch the final model trained, across the pause and the restart.
    await page.getByRole('group', { name: 'Learning curves of the final model' }).waitFor();
    // The run's page from its top: the final model above the front.
    await page.evaluate(() => window.scrollTo(0, 0));
    await shot('final-training');
  });

  it('evaluates it on the test cases: the table is what the engine wrote, worst first', async () => {
    expect(testIds.length).toBeGreaterThan(0);
    await page
      .getByTestId('final-models')
      .getByRole('button', { name: 'Evaluate on the test cases' })
      .click();
    await page.getByRole('heading', { name: 'Test evaluation of the final model' }).waitFor();
    const rows = page.getByTestId('metrics-table').locator('tbody tr');
    await expect.poll(() => rows.count(), { timeout: 120_000 }).toBe(testIds.length);

    const index = JSON.parse(
      readFileSync(join(runDir, 'final', 'test-evaluation', 'index.json'), 'utf8'),
    ) as { report: { perCase: ({ id: string } & Record<string, { dice: number }>)[] } };
    const written = index.report.perCase.map((c) => ({
      id: c.id,
      anterior: c.Anterior!.dice,
      posterior: c.Posterior!.dice,
    }));
    expect(written.map((c) => c.id).sort()).toEqual([...testIds].sort());
    const shown = await rows.evaluateAll((trs) =>
      trs.map((tr) => ({
        id: tr.querySelector('th')?.textContent?.trim() ?? '',
        cells: [...tr.querySelectorAll('td')].map((td) => Number(td.textContent)),
      })),
    );
    // Columns: mean Dice, then Dice, HD95, ASSD, NSD of Anterior, then of Posterior.
    for (const row of shown) {
      const file = written.find((c) => c.id === row.id);
      expect(file, row.id).toBeDefined();
      expect(row.cells[1]).toBeCloseTo(file!.anterior, 3);
      expect(row.cells[5]).toBeCloseTo(file!.posterior, 3);
      expect(row.cells[0]).toBeCloseTo((file!.anterior + file!.posterior) / 2, 3);
    }
    const meanDice = shown.map((r) => r.cells[0]!);
    expect(meanDice).toEqual([...meanDice].sort((a, b) => a - b));

    // The worst case opens side by side: the prediction pane holds the engine's prediction file.
    const worst = shown[0]!.id;
    await page.getByRole('heading', { name: worst, exact: true }).waitFor({ timeout: 60_000 });
    await inStep(page, ['truth', 'prediction', 'errors']);
    expect(await page.locator('figcaption').allTextContents()).toEqual([
      'Ground truth',
      'Prediction of the final model',
      'Errors of the prediction',
    ]);
    const prediction = join(runDir, 'final', 'test-evaluation', 'predictions', `${worst}.nii.gz`);
    const expected = labelCounts((await readVolume(prediction)).data);
    for (const value of [1, 2]) {
      await expect
        .poll(() => labelCount(page, `count-prediction-${value}`), {
          timeout: 20_000,
        })
        .toBe(expected[value] ?? 0);
    }
    await shot('test-evaluation', true);

    // Another row opens its case in the same panes.
    expect(shown.length).toBeGreaterThan(1);
    const other = shown[1]!.id;
    await page.getByRole('button', { name: `View ${other}` }).click();
    await page.getByRole('heading', { name: other, exact: true }).waitFor({ timeout: 60_000 });
    await inStep(page, ['truth', 'prediction', 'errors']);
  }, 180_000);

  it("writes the test evaluation into the run's HTML report", async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'emonas-e2e-final-report-')), 'report.html');
    await callEngine(serve, 'report.export', { runId: RUN_ID, candidateId: chosen, file });
    const html = readFileSync(file, 'utf8');
    expect(html).toContain('<h2 id="test">');
    const section = html.slice(html.indexOf('<h2 id="test">'), html.indexOf('<h2 id="software">'));
    expect(section).toContain(`The final model on ${testIds.length} test cases`);
    for (const id of testIds) expect(section).toContain(id);
  }, 60_000);

  it('goes back to the run and logged no error', async () => {
    await page.getByRole('button', { name: '← The run' }).click();
    await page.getByRole('heading', { name: `Search ${RUN_ID}` }).waitFor();
    expect(problems.foreign).toEqual([]);
    expect(problems.console).toEqual([]);
  });
});
