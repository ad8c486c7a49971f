// Runs in: the end-to-end test processes. The viewer's panes as the page reports them from Cornerstone
// (data-slice, data-scale, data-voi) and the voxels it counts per label (data-count), for the files that
// drive the viewer.
import type { Page } from 'playwright-core';
import { expect } from 'vitest';

export interface PaneState {
  slice: string;
  scale: string;
  voi: string;
}

/** Each pane's slice, zoom and window. */
export async function paneStates(page: Page, ids: string[]): Promise<PaneState[]> {
  return Promise.all(
    ids.map(async (id) => {
      const pane = page.getByTestId(`pane-${id}`);
      return {
        slice: (await pane.getAttribute('data-slice')) ?? '',
        scale: (await pane.getAttribute('data-scale')) ?? '',
        voi: (await pane.getAttribute('data-voi')) ?? '',
      };
    }),
  );
}

/** The voxels of one label the viewer counts in a pane (test id `count-<pane>-<label>`). */
export async function labelCount(page: Page, testId: string): Promise<number> {
  return Number(await page.getByTestId(testId).getAttribute('data-count'));
}

/** Waits until the viewer says its panes are in step, checks that they are, and returns their state. */
export async function inStep(page: Page, ids: string[]): Promise<PaneState> {
  await page.getByTestId('viewer-status').getByText('panes in step').waitFor({ timeout: 60_000 });
  const states = await paneStates(page, ids);
  // One pane is in step with itself: the check means something from two panes on.
  expect(states.length).toBeGreaterThan(1);
  for (const s of states) expect(s).toEqual(states[0]);
  return states[0]!;
}
