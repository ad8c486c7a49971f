// End to end: the Cornerstone viewer in Debian's Chromium (SwiftShader WebGL), driven with
// playwright-core against the real `emonas serve` command. First a dataset case with 10 mm slices (a
// synthetic ACDC tree): panes in step after scroll, zoom and window, overlay voxel counts equal to the label
// map's, physical aspect in the sagittal view, the cine with ED and ES. The review of a real search's
// candidates is test/e2e/review.test.ts.
import { openWatchedPage, requireChromium, type PageProblems } from './chromium.ts';
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type BrowserContext, type Locator, type Page } from 'playwright-core';
import { buildRendererOnce } from './renderer-build.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readVolume } from '../../core/io/volume-files.ts';
import { createEngine } from '../../core/service/index.ts';
import { labelCounts } from '../../renderer/src/viewer/viewer-model.ts';
import { writeSyntheticAcdc } from '../unit/viewer/fixtures.ts';
import { startServe, type ServeProcess } from './serve-process.ts';
import { inStep, paneStates } from './viewer-panes.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SHOTS = join(ROOT, 'test-artifacts', 'screenshots');
/** Cornerstone logs this for every local volume (stack-notes section 5, pitfall 5); it is harmless. */
const KNOWN_NOISE = /No imageId found within the specified criteria/;

let serve: ServeProcess;
let context: BrowserContext;
let page: Page;
let acdcRoot: string;
let problems: PageProblems;

beforeAll(async () => {
  requireChromium();
  mkdirSync(SHOTS, { recursive: true });
  const dataDir = mkdtempSync(join(tmpdir(), 'emonas-e2e-viewer-'));
  acdcRoot = (await writeSyntheticAcdc(mkdtempSync(join(tmpdir(), 'emonas-e2e-acdc-')), 1)).root;
  const engine = createEngine({ dataDir });
  const imported = await engine.call('dataset.import', { folder: acdcRoot, name: 'Heart' });
  if (!imported.ok) throw new Error(imported.error.message);
  await engine.close();

  await buildRendererOnce();
  serve = await startServe(dataDir);
  ({ context, page, problems } = await openWatchedPage(KNOWN_NOISE));
}, 180_000);

afterAll(async () => {
  await context?.close();
  await serve?.stop();
});

const shot = (name: string) => page.screenshot({ path: join(SHOTS, `viewer-${name}.png`), fullPage: true });

/** Bounding box (canvas pixels) of the pixels where blue clearly dominates: the LV overlay in a pane. */
function blueBox(pane: Locator) {
  return pane.evaluate((el) => {
    // Read a copy: Chromium warns about repeated getImageData readbacks of one canvas.
    const canvas = el.querySelector('canvas') as HTMLCanvasElement;
    const copy = document.createElement('canvas');
    copy.width = canvas.width;
    copy.height = canvas.height;
    const context = copy.getContext('2d', { willReadFrequently: true }) as CanvasRenderingContext2D;
    context.drawImage(canvas, 0, 0);
    const { data, width, height } = context.getImageData(0, 0, copy.width, copy.height);
    let [x0, y0, x1, y1, n] = [Infinity, Infinity, -Infinity, -Infinity, 0];
    for (let y = 0; y < height; y++)
      for (let x = 0; x < width; x++) {
        const p = 4 * (y * width + x);
        const [r, g, b] = [data[p] as number, data[p + 1] as number, data[p + 2] as number];
        if (b - r > 60 && b - g > 25) {
          n++;
          x0 = Math.min(x0, x);
          x1 = Math.max(x1, x);
          y0 = Math.min(y0, y);
          y1 = Math.max(y1, y);
        }
      }
    return { n, width: x1 - x0 + 1, height: y1 - y0 + 1 };
  });
}

describe('the viewer on a dataset case with 10 mm slices', () => {
  it('opens the case beside its ground truth, every pane on the same slice', async () => {
    await page.goto(serve.appUrl);
    await page.getByText('Engine connected').waitFor();
    await page.getByRole('button', { name: 'Open' }).click();
    await page.getByLabel('Case', { exact: true }).selectOption('patient001_ED');
    await page.getByRole('button', { name: 'Open in the viewer' }).click();
    const state = await inStep(page, ['image', 'truth']);
    expect(Number(state.slice)).toBe(4);
    await shot('01-case-acquired');
  });

  it("draws exactly the label map's voxels per label", async () => {
    const truth = await readVolume(
      join(acdcRoot, 'database/training/patient001/patient001_frame01_gt.nii.gz'),
    );
    const expected = labelCounts(truth.data);
    for (const value of [1, 2, 3]) {
      const cell = page.getByTestId(`count-truth-${value}`);
      expect(Number(await cell.getAttribute('data-count')), `label ${value}`).toBe(expected[value]);
      expect(expected[value]).toBeGreaterThan(0);
    }
  });

  it('keeps the physical aspect in the sagittal view (a ball stays round across 10 mm slices)', async () => {
    await page.getByRole('button', { name: 'Sagittal' }).click();
    const state = await inStep(page, ['image', 'truth']);
    const i = Number(state.slice);
    const truth = await readVolume(
      join(acdcRoot, 'database/training/patient001/patient001_frame01_gt.nii.gz'),
    );
    const [nx, ny, nz] = truth.shape;
    const js: number[] = [];
    const ks: number[] = [];
    for (let k = 0; k < nz; k++)
      for (let j = 0; j < ny; j++) {
        if (truth.data[i + nx * (j + ny * k)] !== 3) continue;
        js.push(j);
        ks.push(k);
      }
    const across = (Math.max(...js) - Math.min(...js) + 1) * truth.spacing[1];
    const through = (Math.max(...ks) - Math.min(...ks) + 1) * truth.spacing[2];
    const box = await blueBox(page.getByTestId('pane-truth'));
    expect(box.n).toBeGreaterThan(100);
    // Height over width on screen is the physical ratio (30 mm over 36 mm here); drawn in voxels it would
    // be 3 slices over 23 voxels, about 0.13. 8 % allows a pixel or two of rounding at the edges.
    expect(box.height / box.width).toBeCloseTo(through / across, 1);
    expect(Math.abs(box.height / box.width / (through / across) - 1)).toBeLessThan(0.08);
    await shot('02-case-sagittal');
  });

  it('draws labels filled or as outlines, and hides a label on request', async () => {
    const truthPane = page.getByTestId('pane-truth');
    const filled = (await blueBox(truthPane)).n;
    await page.getByTestId('viewer').focus();
    await page.keyboard.press('o');
    await expect.poll(async () => (await blueBox(truthPane)).n, { timeout: 20_000 }).toBeLessThan(filled / 2);
    expect((await blueBox(truthPane)).n).toBeGreaterThan(0);
    await shot('03-case-outline');
    await page.keyboard.press('o');
    await page.getByRole('checkbox', { name: 'Show LV' }).uncheck();
    await expect.poll(async () => (await blueBox(truthPane)).n, { timeout: 20_000 }).toBe(0);
    await page.getByRole('checkbox', { name: 'Show LV' }).check();
    await expect.poll(async () => (await blueBox(truthPane)).n, { timeout: 20_000 }).toBe(filled);
  });

  it('keeps the panes in step after scrolling, zooming and windowing in one of them', async () => {
    await page.getByRole('button', { name: 'As acquired' }).click();
    const before = await inStep(page, ['image', 'truth']);
    const truthPane = page.getByTestId('pane-truth');
    await truthPane.hover();
    for (let n = 0; n < 2; n++) await page.mouse.wheel(0, 120);
    await expect
      .poll(async () => (await paneStates(page, ['truth']))[0]!.slice, { timeout: 20_000 })
      .not.toBe(before.slice);
    const scrolled = await inStep(page, ['image', 'truth']);
    expect(Math.abs(Number(scrolled.slice) - Number(before.slice))).toBeGreaterThanOrEqual(1);

    await page.getByTestId('viewer').focus();
    await page.keyboard.press('+');
    await expect
      .poll(async () => (await paneStates(page, ['image']))[0]!.scale, { timeout: 20_000 })
      .not.toBe(before.scale);
    const zoomed = await inStep(page, ['image', 'truth']);
    expect(Number(zoomed.scale)).toBeLessThan(Number(before.scale));

    const box = (await truthPane.boundingBox())!;
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    await page.mouse.down();
    await page.mouse.move(box.x + box.width / 2 + 60, box.y + box.height / 2 + 40, { steps: 5 });
    await page.mouse.up();
    await expect
      .poll(async () => (await paneStates(page, ['image']))[0]!.voi, { timeout: 20_000 })
      .not.toBe(before.voi);
    await inStep(page, ['image', 'truth']);
    await shot('04-case-scrolled-zoomed-windowed');
  });

  it("shows the patient's cine with the ED and ES frames marked", async () => {
    const cine = page.getByTestId('cine');
    await cine.getByRole('button', { name: 'Frame 1 (ED)' }).waitFor({ timeout: 30_000 });
    await expect.poll(() => cine.getByText(/^Frame \d+ of 10/).textContent()).toBe('Frame 1 of 10 – ED');
    // toDataURL, not getImageData: Chromium warns about repeated getImageData readbacks of one canvas.
    const pixels = () => cine.locator('canvas').evaluate((c: HTMLCanvasElement) => c.toDataURL());
    const ed = await pixels();
    await cine.getByRole('button', { name: 'Frame 6 (ES)' }).click();
    await cine.getByText('Frame 6 of 10 – ES').waitFor();
    expect(await pixels()).not.toEqual(ed);
    await shot('05-case-cine-es');
  });

  it('made no request beyond this machine and logged no error', () => {
    expect(problems.foreign).toEqual([]);
    expect(problems.console).toEqual([]);
  });
});
