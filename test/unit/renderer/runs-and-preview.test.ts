import { fireEvent, render, screen } from '@testing-library/svelte';
import { tick } from 'svelte';
import { describe, expect, it } from 'vitest';
import type { VolumeData } from '../../../core/api/datasets.ts';
import { fail } from '../../../core/api/envelope.ts';
import { labelColour } from '../../../core/api/review.ts';
import type { RunSummary } from '../../../core/api/runs.ts';
import SearchesPage from '../../../renderer/src/components/SearchesPage.svelte';
import { RunView } from '../../../renderer/src/review/run-view.svelte.ts';
import { CasePreview } from '../../../renderer/src/state/case-preview.svelte.ts';
import { DashboardState } from '../../../renderer/src/state/dashboard.svelte.ts';
import { SearchWizard } from '../../../renderer/src/state/search-wizard.svelte.ts';
import { RunsState } from '../../../renderer/src/state/runs.svelte.ts';
import { intensityWindow, renderSlice } from '../../../renderer/src/state/slice-image.ts';
import { FakeClient, ok } from './fake-client.ts';

const settle = async () => {
  for (let i = 0; i < 5; i++) {
    await Promise.resolve();
    await tick();
  }
};

function searchesPage(client: FakeClient) {
  const runs = new RunsState(client);
  return {
    runs,
    runView: new RunView(client),
    dashboard: new DashboardState(client),
    wizard: new SearchWizard(client, () => undefined),
    onimport: () => undefined,
  };
}

function run(runId: string, state: RunSummary['state']): RunSummary {
  return {
    runId,
    runDir: `/d/runs/${runId}`,
    createdAt: '2025-01-01T00:00:00.000Z',
    algorithm: 'samea',
    problem: 'formula',
    evaluated: 12,
    failed: 1,
    state,
    lastActivity: null,
  };
}

describe('the Searches page', () => {
  it('lists runs with their state and offers pause or resume as the state allows', async () => {
    let runs = [run('run-a', 'running'), run('run-b', 'paused'), run('run-c', 'finished')];
    const client = new FakeClient({
      'run.list': () => ok(runs),
      // run-c's final training was driven by an engine that is gone.
      'final.list': () =>
        ok([{ runId: 'run-c', state: 'interrupted' as const, request: null, model: null, curves: [] }]),
      'search.pause': ({ runId }) => {
        runs = runs.map((r) => (r.runId === runId ? { ...r, state: 'paused' } : r));
        return ok(run(runId, 'stopping'));
      },
      'search.resume': ({ runId }) => ok(run(runId, 'running')),
    });
    render(SearchesPage, searchesPage(client));
    await settle();
    expect(screen.getAllByRole('row')).toHaveLength(4);
    expect(screen.getAllByText('12 (1 failed)')).toHaveLength(3);
    const finals = screen
      .getAllByRole('row')
      .map((r) => r.querySelector('[data-final]')?.textContent?.trim());
    expect(finals).toEqual([undefined, 'not trained', 'not trained', 'interrupted']);
    expect(screen.queryByRole('button', { name: 'Pause run-c' })).toBeNull();
    expect(screen.queryByRole('button', { name: 'Resume run-c' })).toBeNull();
    await fireEvent.click(screen.getByRole('button', { name: 'Pause run-a' }));
    await settle();
    expect(client.calls.find((c) => c.method === 'search.pause')?.input).toEqual({ runId: 'run-a' });
    expect(screen.getByRole('button', { name: 'Resume run-a' })).toBeTruthy();
    await fireEvent.click(screen.getByRole('button', { name: 'Resume run-b' }));
    await settle();
    expect(client.calls.find((c) => c.method === 'search.resume')?.input).toEqual({ runId: 'run-b' });
  });

  it("shows why a run failed, from the engine's event, as a sentence", async () => {
    let runs = [run('run-a', 'running')];
    const client = new FakeClient({ 'run.list': () => ok(runs), 'final.list': () => ok([]) });
    render(SearchesPage, searchesPage(client));
    await settle();
    runs = [run('run-a', 'failed')];
    client.emit('run.failed', {
      run: runs[0] as RunSummary,
      error: { code: 'disk_full', message: 'The disk is full: cannot write the journal of run-a.' },
    });
    await settle();
    expect(screen.getByRole('alert').textContent).toContain('The disk is full');
    expect(screen.getByRole('alert').textContent).toContain('Free some disk space');
    expect(screen.getByRole('button', { name: 'Resume run-a' })).toBeTruthy();
  });

  it('lists a run its time budget stopped as such, not as paused, and offers resume', async () => {
    const budgeted: RunSummary = {
      ...run('run-d', 'stopped-at-budget'),
      stoppedAtBudget: { minutes: 9, at: '2025-01-01T00:09:00.000Z' },
    };
    const client = new FakeClient({
      'run.list': () => ok([budgeted, run('run-e', 'paused')]),
      'final.list': () => ok([]),
      'search.resume': ({ runId }) => ok(run(runId, 'running')),
    });
    render(SearchesPage, searchesPage(client));
    await settle();
    const states = screen
      .getAllByRole('row')
      .map((r) => r.querySelector('[data-state]')?.textContent?.trim());
    expect(states).toEqual([undefined, 'stopped at its 9-minute time budget', 'paused']);
    await fireEvent.click(screen.getByRole('button', { name: 'Resume run-d' }));
    await settle();
    expect(client.calls.find((c) => c.method === 'search.resume')?.input).toEqual({ runId: 'run-d' });
  });

  it('says when there are no runs', async () => {
    const empty = new FakeClient({ 'run.list': () => ok([]), 'final.list': () => ok([]) });
    render(SearchesPage, searchesPage(empty));
    await settle();
    expect(screen.getByText(/no searches yet/)).toBeTruthy();
  });
});

const volume = (data: VolumeData['data'], shape: [number, number, number]): VolumeData => ({
  data,
  shape,
  spacing: [1, 1, 1],
  origin: [0, 0, 0],
  direction: [1, 0, 0, 0, 1, 0, 0, 0, 1],
});

describe('the slice preview', () => {
  it('windows the image to its 1st-99th percentile, ignoring outliers', () => {
    const data = new Float32Array(1000).map((_, i) => i);
    data[999] = 1e9;
    const [lo, hi] = intensityWindow(data);
    expect(lo).toBe(9);
    expect(hi).toBe(989);
    expect(intensityWindow(new Float32Array(10).fill(5))).toEqual([5, 6]);
  });

  it('draws slice k in grey with each class tinted in its colour', () => {
    // 2 x 2 x 2: slice 1 holds grey levels 0, 100 and classes 0, 1, 2, 0.
    const image = volume(Float32Array.from([9, 9, 9, 9, 0, 100, 100, 0]), [2, 2, 2]);
    const label = volume(Uint8Array.from([0, 0, 0, 0, 0, 1, 2, 0]), [2, 2, 2]);
    const { width, height, pixels } = renderSlice(image, label, 1, [0, 100]);
    expect([width, height]).toEqual([2, 2]);
    expect([...pixels.slice(0, 4)]).toEqual([0, 0, 0, 255]);
    expect([...pixels.slice(12, 16)]).toEqual([0, 0, 0, 255]);
    const red = labelColour(1);
    expect(pixels[4]).toBe(Math.round(255 * 0.55 + red[0] * 0.45));
    expect(pixels[5]).toBe(Math.round(255 * 0.55 + red[1] * 0.45));
    expect(pixels[9]).toBeGreaterThan(pixels[8] as number);
    expect([...renderSlice(image, undefined, 1, [0, 100]).pixels.slice(4, 8)]).toEqual([255, 255, 255, 255]);
  });

  it('asks the engine for the case and starts on its middle slice; an error is kept as a sentence', async () => {
    const client = new FakeClient({
      'case.volume': ({ caseId }) =>
        caseId === 'bad'
          ? fail({ code: 'unreadable_file', message: 'The image of case bad is cut short.' })
          : ok({ datasetName: 'H', caseId, image: volume(new Float32Array(2 * 2 * 5), [2, 2, 5]) }),
    });
    const preview = new CasePreview(client, 'H');
    await preview.show('a');
    expect(client.calls[0]).toEqual({ method: 'case.volume', input: { dataset: 'H', caseId: 'a' } });
    expect(preview.depth).toBe(5);
    expect(preview.slice).toBe(2);
    await preview.show('bad');
    expect(preview.volume).toBeNull();
    expect(preview.error?.message).toContain('cut short');
  });

  it('drops a slow answer for a case the user has moved on from', async () => {
    let answerA!: () => void;
    const gate = new Promise<void>((resolve) => (answerA = resolve));
    const caseVolume = (caseId: string, depth: number) =>
      ok({ datasetName: 'H', caseId, image: volume(new Float32Array(4 * depth), [2, 2, depth]) });
    const client = new FakeClient({
      // A slow read of case a: a promise where the fake expects an answer (the fake awaits what it returns).
      'case.volume': (({ caseId }: { caseId: string }) =>
        caseId === 'a' ? gate.then(() => caseVolume('a', 5)) : caseVolume('b', 3)) as never,
    });
    const preview = new CasePreview(client, 'H');
    const first = preview.show('a');
    expect(preview.loading).toBe(true);
    await preview.show('b');
    expect(preview.volume?.caseId).toBe('b');
    answerA();
    await first;
    expect(preview.caseId).toBe('b');
    expect(preview.volume?.caseId).toBe('b');
    expect(preview.depth).toBe(3);
    expect(preview.loading).toBe(false);
  });
});
