// End to end: the review of a real tiny search on real data, in Debian's Chromium (SwiftShader WebGL), driven
// with playwright-core against the real `emonas serve` command. Six Task04 hippocampus cases are copied to a
// temp dataset and searched for real (startSearch with a dataset problem: four candidates trained in worker
// processes for one epoch of three steps). Then, as a researcher would: the run's dashboard, a Pareto point,
// its review with image, ground truth and prediction side by side and in step, a second candidate, the
// exports (predictions read back by nibabel with their source's affine, the network, the HTML report), and
// the report opened in Chromium with its plots and pictures. Screenshots go to test-artifacts/screenshots/.
import { mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type BrowserContext, type Page } from 'playwright-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { readVolume } from '../../core/io/volume-files.ts';
import { labelCounts } from '../../renderer/src/viewer/viewer-model.ts';
import { searchedFront } from '../fixtures/tiny-search.ts';
import { requirePython, runPython } from '../unit/io/helpers.ts';
import { requireChromium, type PageProblems } from './chromium.ts';
import { copyHippocampusCases } from './hippocampus-copy.ts';
import { closeAppAfterTests, openApp, type ServeProcess } from './serve-process.ts';
import { inStep, labelCount, paneStates } from './viewer-panes.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SHOTS = join(ROOT, 'test-artifacts', 'screenshots');
const RUN_ID = 'run-e2e-tiny';
/** Cornerstone logs this for every local volume (stack-notes section 5, pitfall 5); it is harmless. */
const KNOWN_NOISE = /No imageId found within the specified criteria/;

let serve: ServeProcess;
let context: BrowserContext;
let page: Page;
let dataset: string;
let runDir: string;
let chosen: string;
let second: string;
let validation: string[];
/** The case the review opened first: its worst. */
let worst: string;
let problems: PageProblems;

beforeAll(async () => {
  requireChromium();
  requirePython();
  mkdirSync(SHOTS, { recursive: true });
  const dataDir = mkdtempSync(join(tmpdir(), 'emonas-e2e-review-'));
  dataset = copyHippocampusCases(6);
  runDir = join(dataDir, 'runs', RUN_ID);
  // Random search, seed 10: its four networks are among the cheapest of the space (at most 1.2 million
  // parameters, five or seven cells), which keeps this search near a minute on two cores.
  const front = await searchedFront({
    runDir,
    workers: 2,
    config: { algorithm: 'random', preset: 'quick', batch: 2, generations: 2, seed: 10 },
    problem: {
      kind: 'dataset',
      dataset,
      epochs: 1,
      stepsPerEpoch: 3,
      patch: [32, 32, 32],
      valFraction: 0.5,
      testFraction: 0,
      cacheDir: mkdtempSync(join(tmpdir(), 'emonas-e2e-review-cache-')),
    },
  });
  if (front.length < 2 || !front[0] || !front[1]) {
    throw new Error(`the tiny search should end with a front of two or more, not ${front.length}`);
  }
  [chosen, second] = [front[0].id, front[1].id];
  const split = JSON.parse(readFileSync(join(runDir, 'candidates', chosen, 'split.json'), 'utf8')) as {
    val: string[];
  };
  validation = [...split.val].sort();

  ({ serve, context, page, problems } = await openApp(dataDir, KNOWN_NOISE));
}, 300_000);

const shot = (name: string) => page.screenshot({ path: join(SHOTS, `review-${name}.png`), fullPage: true });
const count = (testId: string) => labelCount(page, testId);

closeAppAfterTests(() => ({ context, serve }), shot);

/** The labels the viewer counts in a pane equal the label map's on disk, label for label. */
async function expectCounts(pane: string, file: string): Promise<void> {
  const expected = labelCounts((await readVolume(file)).data);
  for (const value of [1, 2]) {
    await expect.poll(() => count(`count-${pane}-${value}`), { timeout: 20_000 }).toBe(expected[value] ?? 0);
  }
}

describe('the review of a real tiny search', () => {
  it("opens from a Pareto point on the run's dashboard: image, ground truth and prediction side by side, in step", async () => {
    await page.goto(serve.appUrl);
    await page.getByText('Engine connected').waitFor();
    await page.getByRole('button', { name: 'Searches' }).click();
    await page.getByRole('button', { name: `Open ${RUN_ID}` }).click();
    const point = page.getByTestId(`point-${chosen}`);
    await point.waitFor({ timeout: 30_000 });
    await point.click();
    await page.getByRole('heading', { name: `Candidate ${chosen}` }).waitFor();
    await shot('01-dashboard');
    await page.getByRole('button', { name: 'Review its predictions…' }).click();
    await page.getByRole('heading', { name: `Review of ${chosen}` }).waitFor();

    const rows = page.getByTestId('metrics-table').locator('tbody tr');
    await expect.poll(() => rows.count(), { timeout: 120_000 }).toBe(validation.length);
    const meanDice = await rows.evaluateAll((trs) =>
      trs.map((tr) => Number(tr.querySelectorAll('td')[0]?.textContent)),
    );
    expect(meanDice).toEqual([...meanDice].sort((a, b) => a - b));
    worst = (await page.locator('#case-heading').textContent())?.trim() ?? '';
    expect(worst).toBe((await rows.first().locator('th').textContent())?.trim());

    await inStep(page, ['truth', 'prediction', 'errors']);
    expect(await page.locator('figcaption').allTextContents()).toEqual([
      'Ground truth',
      `Prediction of ${chosen}`,
      'Errors of the prediction',
    ]);
    await expectCounts('truth', join(dataset, 'labelsTr', `${worst}.nii.gz`));
    await expectCounts('prediction', join(runDir, 'candidates', chosen, 'predictions', `${worst}.nii.gz`));
    // One epoch of three steps leaves a network far from the ground truth: the error map cannot be empty.
    const errors = (await count('count-errors-1')) + (await count('count-errors-2'));
    expect(errors).toBeGreaterThan(0);
    await shot('02-side-by-side');

    await page.getByTestId('pane-prediction').hover();
    const before = (await paneStates(page, ['prediction']))[0]!.slice;
    await page.mouse.wheel(0, 120);
    await expect
      .poll(async () => (await paneStates(page, ['truth']))[0]!.slice, { timeout: 20_000 })
      .not.toBe(before);
    await inStep(page, ['truth', 'prediction', 'errors']);
    await page.getByRole('button', { name: 'Go to the largest error' }).click();
    await inStep(page, ['truth', 'prediction', 'errors']);
    await shot('03-largest-error');
  });

  it('sorts the table by another column and opens another case', async () => {
    await page.getByTestId('metrics-table').getByRole('button', { name: 'Case' }).click();
    const ids = await page.getByTestId('metrics-table').locator('tbody th').allTextContents();
    expect(ids.map((s) => s.trim())).toEqual(validation);
    const other = validation.find((id) => id !== worst)!;
    await page.getByRole('button', { name: `View ${other}` }).click();
    await page.getByRole('heading', { name: other }).waitFor();
    await inStep(page, ['truth', 'prediction', 'errors']);
    await expectCounts('prediction', join(runDir, 'candidates', chosen, 'predictions', `${other}.nii.gz`));
  });

  it('shows a second candidate in the third pane, in step with the others', async () => {
    await page.getByRole('radio', { name: 'Second candidate' }).check();
    await page.getByRole('combobox', { name: 'Second candidate' }).selectOption(second);
    await page
      .locator('figcaption')
      .filter({ hasText: `Prediction of ${second}` })
      .waitFor({ timeout: 120_000 });
    await inStep(page, ['truth', 'prediction', 'second']);
    const other = validation.find((id) => id !== worst)!;
    await expectCounts('second', join(runDir, 'candidates', second, 'predictions', `${other}.nii.gz`));
    await shot('04-second-candidate');
  });

  it('exports predictions that nibabel reads with their images’ affine, the network, and a report that opens in Chromium', async () => {
    const folder = mkdtempSync(join(tmpdir(), 'emonas-e2e-export-'));
    await page.getByLabel('Predictions into the folder').fill(join(folder, 'predictions'));
    await page.getByRole('button', { name: 'Export the predictions' }).click();
    await page.getByText(`Wrote ${validation.length} file(s)`).waitFor({ timeout: 60_000 });
    const readBack = runPython<{ affine: boolean; shape: boolean; labels: number[]; integer: boolean }[]>(
      `
import json, sys, nibabel as nib, numpy as np
folder, images, names = sys.argv[1], sys.argv[2], sys.argv[3].split(",")
out = []
for n in names:
    pred, image = nib.load(f"{folder}/{n}.nii.gz"), nib.load(f"{images}/{n}.nii.gz")
    data = np.asanyarray(pred.dataobj)
    out.append({
        "affine": bool(np.allclose(pred.affine, image.affine, atol=1e-6)),
        "shape": pred.shape == image.shape,
        "labels": sorted(int(v) for v in np.unique(data)),
        "integer": bool(np.issubdtype(data.dtype, np.integer)),
    })
print(json.dumps(out))
`,
      [join(folder, 'predictions'), join(dataset, 'imagesTr'), validation.join(',')],
    );
    expect(validation.length).toBeGreaterThan(0);
    expect(readBack).toHaveLength(validation.length);
    for (const [n, file] of readBack.entries()) {
      expect(file, validation[n]).toMatchObject({ affine: true, shape: true, integer: true });
      expect(file.labels.every((v) => v === 0 || v === 1 || v === 2)).toBe(true);
    }

    await page.getByLabel('Network and genome into the folder').fill(join(folder, 'network'));
    await page.getByRole('button', { name: 'Export the network' }).click();
    await page.getByText('Wrote 4 file(s)').waitFor({ timeout: 60_000 });
    const genome = JSON.parse(readFileSync(join(folder, 'network', 'genome.json'), 'utf8')) as unknown;
    const card = JSON.parse(
      readFileSync(join(runDir, 'candidates', chosen, 'emonas-model.json'), 'utf8'),
    ) as { genome: unknown };
    expect(genome).toEqual(card.genome);

    const report = join(folder, 'report.html');
    await page.getByLabel(/HTML report file/).fill(report);
    await page.getByRole('button', { name: 'Write the report' }).click();
    await page.getByText('Wrote 1 file(s)').waitFor({ timeout: 60_000 });
    await shot('05-exports');

    const reportPage = await context.newPage();
    const reportProblems: string[] = [];
    reportPage.on('console', (m) => reportProblems.push(m.text()));
    reportPage.on('request', (r) => {
      if (!r.url().startsWith('file://') && !r.url().startsWith('data:'))
        reportProblems.push(`request ${r.url()}`);
    });
    await reportPage.goto(`file://${report}`);
    expect(await reportPage.title()).toContain(RUN_ID);
    for (const id of ['pareto-plot', 'hypervolume-plot']) {
      const svg = reportPage.locator(`#${id} svg`);
      const size = await svg.boundingBox();
      expect(size?.width, id).toBeGreaterThan(300);
      expect(await svg.locator('circle').count(), id).toBeGreaterThan(1);
    }
    const pictures = reportPage.locator('img.failure');
    expect(await pictures.count()).toBe(validation.length);
    const loaded = await pictures.evaluateAll((imgs) =>
      (imgs as HTMLImageElement[]).map((img) => img.complete && img.naturalWidth > 0),
    );
    expect(loaded).toEqual(validation.map(() => true));
    await reportPage.screenshot({ path: join(SHOTS, 'review-06-report.png'), fullPage: true });
    expect(reportProblems).toEqual([]);
    await reportPage.close();
  });

  it('goes back to the run’s dashboard', async () => {
    await page.getByRole('button', { name: '← The run' }).click();
    await page.getByRole('heading', { name: `Search ${RUN_ID}` }).waitFor();
    await page.getByTestId(`point-${second}`).waitFor();
  });

  it('made no request beyond this machine and logged no error', () => {
    expect(problems.foreign).toEqual([]);
    expect(problems.console).toEqual([]);
  });
});
