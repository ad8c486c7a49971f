// Runs in: a Node script (`npm run screenshots:demo -- --run <demo run folder> [--out docs/screenshots]`).
// The README's pictures of the three steps after a search, taken from a real `emonas demo` run rather than
// the end-to-end tests' tiny one: the run is copied into a temporary app data folder (the given folder is
// never written), `emonas serve` starts on it, and Debian's Chromium is driven as the end-to-end tests drive
// it: the run's page with its final model, "Evaluate on the test cases" with the worst case side by side,
// and the final model applied to real hippocampus images the demo does not hold plus one broken file. Each
// picture is taken only once the page shows what it should; otherwise the script exits non-zero saying what
// was missing.
import {
  copyFileSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { Locator, Page } from 'playwright-core';
import { openWatchedPage, requireChromium } from '../test/e2e/chromium.ts';
import { buildRendererOnce } from '../test/e2e/renderer-build.ts';
import { startServe, type ServeProcess } from '../test/e2e/serve-process.ts';
import { inStep, labelCount } from '../test/e2e/viewer-panes.ts';
import { realHippocampusFolder } from '../test/fixtures/hippocampus.ts';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const DEMO_IMAGES = join(ROOT, 'resources', 'demo', 'Task04_Hippocampus_demo', 'imagesTr');
/** New scans: this many real hippocampus images the demo's dataset does not hold, and one broken file. */
const NEW_SCANS = 3;
const BROKEN = 'broken.nii.gz';
/** Cornerstone logs this for every local volume (stack-notes section 5, pitfall 5); it is harmless. */
const KNOWN_NOISE = /No imageId found within the specified criteria/;
/** Predicting the test cases and the new scans with a real network on a small machine. */
const PREDICT_MS = 15 * 60_000;

class Failed extends Error {}

function check(condition: boolean, message: string): asserts condition {
  if (!condition) throw new Failed(message);
}

const log = (line: string) => console.info(`[screenshots] ${line}`);

/** Polls `read` until `ok` holds for its value, or fails saying `what` and the last value seen. */
async function until<T>(what: string, read: () => Promise<T>, ok: (v: T) => boolean, ms: number): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await read();
    if (ok(value)) return value;
    if (Date.now() > deadline)
      throw new Failed(`${what} within ${ms / 1000} s (last seen: ${String(value)})`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

interface DemoRun {
  dir: string;
  id: string;
  testIds: string[];
}

/** The given folder as a finished demo run with a trained final model and test cases, or a clear failure. */
function readDemoRun(dir: string): DemoRun {
  const read = (file: string): unknown => {
    const path = join(dir, file);
    check(
      existsSync(path),
      `${path} is missing: --run must be a folder made by \`emonas demo\` (with its final model)`,
    );
    try {
      return JSON.parse(readFileSync(path, 'utf8'));
    } catch (e) {
      throw new Failed(`${path} is not readable JSON: ${(e as Error).message}`);
    }
  };
  const run = read('run.json') as { format?: string };
  check(run.format === 'emonas-run', `${join(dir, 'run.json')} is not an emonas run (format ${run.format})`);
  const final = read(join('final', 'finalize.json')) as { status?: string; valDice?: Record<string, number> };
  check(
    final.status === 'completed' && final.valDice !== undefined,
    `${join(dir, 'final', 'finalize.json')}: the final model's training is ${final.status}, not completed`,
  );
  const training = read('training.json') as { split?: { test?: string[] } };
  const testIds = training.split?.test ?? [];
  check(testIds.length > 0, `${join(dir, 'training.json')}: the run set no test cases aside`);
  return { dir, id: basename(dir), testIds };
}

/** The first real Task04 images (sorted) that the bundled demo dataset does not hold. */
function imagesOutsideDemo(count: number): string[] {
  const images = join(realHippocampusFolder(), 'imagesTr');
  const inDemo = new Set(readdirSync(DEMO_IMAGES));
  const outside = readdirSync(images)
    .filter((name) => name.endsWith('.nii.gz') && !name.startsWith('.') && !inDemo.has(name))
    .sort()
    .slice(0, count)
    .map((name) => join(images, name));
  check(outside.length === count, `${images} holds only ${outside.length} images outside the demo`);
  return outside;
}

/** Every row of a table as its header cell and its cells' texts. */
function tableRows(rows: Locator): Promise<{ head: string; cells: string[] }[]> {
  return rows.evaluateAll((trs) =>
    trs.map((tr) => ({
      head: tr.querySelector('th')?.textContent?.trim() ?? '',
      cells: [...tr.querySelectorAll('td')].map((td) => td.textContent?.trim() ?? ''),
    })),
  );
}

/** The prediction pane shows some of every structure once Cornerstone has drawn it. */
async function predictionShown(page: Page, labels: number[]): Promise<void> {
  for (const value of labels) {
    await until(
      `the prediction pane to show label ${value}`,
      () => labelCount(page, `count-prediction-${value}`),
      (n) => n > 0,
      30_000,
    );
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { run: { type: 'string' }, out: { type: 'string', default: join(ROOT, 'docs', 'screenshots') } },
  });
  check(
    values.run !== undefined,
    'Usage: npm run screenshots:demo -- --run <demo run folder> [--out <folder>]',
  );
  const run = readDemoRun(resolve(values.run));
  const out = resolve(values.out);
  requireChromium();
  mkdirSync(out, { recursive: true });

  const temp = mkdtempSync(join(tmpdir(), 'emonas-demo-screenshots-'));
  const dataDir = join(temp, 'data');
  cpSync(run.dir, join(dataDir, 'runs', run.id), { recursive: true });
  const scans = join(temp, 'new-scans');
  mkdirSync(scans);
  const images = imagesOutsideDemo(NEW_SCANS);
  for (const image of images) copyFileSync(image, join(scans, basename(image)));
  writeFileSync(join(scans, BROKEN), 'not an image at all');
  const predicted = join(temp, 'predicted');
  log(
    `copied run ${run.id} into ${dataDir}; new scans ${images.map((i) => basename(i)).join(', ')} and ${BROKEN}`,
  );

  await buildRendererOnce();
  let serve: ServeProcess | undefined;
  const watched = await openWatchedPage(KNOWN_NOISE);
  const { page, problems } = watched;
  try {
    serve = await startServe(dataDir);
    log(`emonas serve: ${serve.apiUrl}`);
    await page.goto(serve.appUrl);
    await page.getByText('Engine connected').waitFor();
    await page.getByRole('button', { name: 'Searches' }).click();
    await page.getByRole('button', { name: `Open ${run.id}` }).click();
    await page.getByRole('heading', { name: 'Final model' }).waitFor();
    await until(
      'the final model to show as trained',
      () => page.getByTestId('final-state').textContent(),
      (s) => s === 'trained',
      30_000,
    );
    await page.getByRole('group', { name: 'Learning curves of the final model' }).waitFor();
    const dice = (await page.getByTestId('final-dice').textContent()) ?? '';
    log(`run page: final model validation Dice "${dice.trim()}"`);
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.screenshot({ path: join(out, 'final-training.png') });
    log(`saved ${join(out, 'final-training.png')}`);

    log(`evaluating the final model on ${run.testIds.length} test cases`);
    await page
      .getByTestId('final-models')
      .getByRole('button', { name: 'Evaluate on the test cases' })
      .click();
    await page.getByRole('heading', { name: 'Test evaluation of the final model' }).waitFor();
    const summary = page.locator('p.summary');
    await summary.waitFor({ timeout: PREDICT_MS });
    const alerts = await page.getByRole('alert').allTextContents();
    check(alerts.length === 0, `the evaluation reported problems: ${alerts.join(' | ')}`);
    const summaryText = (await summary.textContent()) ?? '';
    check(
      summaryText.startsWith(`${run.testIds.length} test cases`),
      `the evaluation says "${summaryText.trim()}", expected ${run.testIds.length} test cases`,
    );
    const rows = page.getByTestId('metrics-table').locator('tbody tr');
    await until(
      'the per-case table to list every test case',
      () => rows.count(),
      (n) => n === run.testIds.length,
      60_000,
    );
    const perCase = await tableRows(rows);
    check(
      perCase.every((r) => run.testIds.includes(r.head)),
      `the table lists ${perCase.map((r) => r.head).join(', ')}, not the run's test cases`,
    );
    const means = await tableRows(page.getByTestId('test-mean').locator('tbody tr'));
    check(
      means.length > 0 && means.every((m) => Number.isFinite(Number(m.cells[0]))),
      'the mean table has no Dice per structure',
    );
    log(`test cases (worst first): ${perCase.map((r) => `${r.head} ${r.cells[0]}`).join(', ')}`);
    log(
      `mean over the test cases: ${means.map((m) => `${m.head} Dice ${m.cells[0]}, HD95 ${m.cells[1]} mm`).join('; ')}`,
    );

    const worst = perCase[0]!.head;
    await page.getByRole('heading', { name: worst, exact: true }).waitFor({ timeout: 60_000 });
    await inStep(page, ['truth', 'prediction', 'errors']);
    await predictionShown(page, [1, 2]);
    await page.screenshot({ path: join(out, 'test-evaluation.png'), fullPage: true });
    log(`saved ${join(out, 'test-evaluation.png')} (worst case ${worst} side by side)`);

    await page.getByRole('button', { name: '← The run' }).click();
    await page.getByRole('button', { name: 'Apply to new scans…' }).click();
    await page.getByRole('heading', { name: 'Apply to new scans' }).waitFor();
    await until(
      'the run to be chosen',
      () => page.getByRole('combobox', { name: 'Run' }).inputValue(),
      (v) => v === run.id,
      20_000,
    );
    await until(
      'the final model to be offered first',
      () => page.getByRole('combobox', { name: 'Model' }).inputValue(),
      (v) => v === 'final',
      20_000,
    );
    await page.getByLabel('Images: files or folders, one per line').fill(scans);
    await page.getByLabel('Predictions into the folder').fill(predicted);
    await page.getByRole('button', { name: 'Predict' }).click();
    log(`applying the final model to ${scans}`);
    const applied = page.getByTestId('apply-table').locator('tbody tr');
    await until(
      'every good scan to be predicted',
      () => applied.count(),
      (n) => n === NEW_SCANS,
      PREDICT_MS,
    );
    const failures = await page.getByTestId('apply-failures').locator('li').allTextContents();
    check(
      failures.length === 1 && failures[0]!.includes(join(scans, BROKEN)),
      `expected only ${BROKEN} named as not predicted, got: ${failures.join(' | ')}`,
    );
    const volumes = await tableRows(applied);
    const header = (await page.getByTestId('apply-table').locator('thead th').allTextContents()).map((s) =>
      s.trim(),
    );
    log(
      `volumes: ${volumes
        .map(
          (r) =>
            `${r.head} ${r.cells
              .slice(0, -1)
              .map((c, i) => `${header[i + 1]} ${c}`)
              .join(', ')}`,
        )
        .join('; ')}`,
    );
    log(`not predicted: ${failures[0]}`);
    const first = basename(images[0]!);
    await page.getByRole('heading', { name: first }).waitFor({ timeout: 60_000 });
    await inStep(page, ['image', 'prediction']);
    await predictionShown(page, [1, 2]);
    await page.screenshot({ path: join(out, 'apply-scans.png'), fullPage: true });
    log(`saved ${join(out, 'apply-scans.png')}`);

    check(
      problems.foreign.length === 0,
      `the page made requests beyond this machine: ${problems.foreign.join(', ')}`,
    );
    check(problems.console.length === 0, `the page logged errors: ${problems.console.join(' | ')}`);
  } finally {
    await watched.context.close();
    await serve?.stop();
    rmSync(temp, { recursive: true, force: true });
  }
}

main().then(
  () => log('done'),
  (e: unknown) => {
    console.error(`[screenshots] failed: ${e instanceof Failed ? e.message : (e as Error).stack}`);
    process.exit(1);
  },
);
