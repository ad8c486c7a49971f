import { fireEvent, render, screen } from '@testing-library/svelte';
import { tick } from 'svelte';
import { describe, expect, it } from 'vitest';
import { fail } from '../../../core/api/envelope.ts';
import type { RunSummary, SearchEstimate } from '../../../core/api/runs.ts';
import SearchWizardView from '../../../renderer/src/components/SearchWizard.svelte';
import {
  PRESETS,
  parsePatch,
  searchRequest,
  settingProblems,
} from '../../../renderer/src/state/search-settings.ts';
import { SearchWizard } from '../../../renderer/src/state/search-wizard.svelte.ts';
import checked from '../../../renderer/src/state/estimate-accuracy.json';
import { FakeClient, ok, sampleRecord } from './fake-client.ts';

const settle = async () => {
  for (let i = 0; i < 5; i++) {
    await Promise.resolve();
    await tick();
  }
};

const estimate: SearchEstimate = {
  secondsPerStep: 0.5,
  startupSeconds: 4,
  probeGenome: '16 filters, 7 cells',
  protocol: 'reference',
  patch: [32, 48, 16],
  batchSize: 2,
  candidates: 24,
  secondsPerCandidate: 120,
  totalSeconds: 2880,
  diskBytes: 300 * 1024 * 1024,
  paramsPerCandidate: 654_321,
  backend: 'emonas-cpu',
  notes: ['Priced for the reference protocol: candidates train on random 32x48x16 slabs.'],
};

const started: RunSummary = {
  runId: 'run-1',
  runDir: '/d/runs/run-1',
  createdAt: '2025-01-01T00:00:00.000Z',
  algorithm: 'samea',
  problem: 'dataset',
  evaluated: 0,
  failed: 0,
  state: 'running',
  lastActivity: null,
};

describe('the search settings', () => {
  it('reads a patch, and explains a side that a 9-cell network cannot halve four times', () => {
    expect(parsePatch('')).toBeNull();
    expect(parsePatch('32 x 48 x 32')).toEqual([32, 48, 32]);
    expect(parsePatch('32×48×32')).toEqual([32, 48, 32]);
    expect(parsePatch('32, 48, 32')).toEqual([32, 48, 32]);
    expect(parsePatch('35 x 51 x 35')).toBe(
      'Every side must be a multiple of 16 (35, 51, 35 are not); try 32 x 48 x 32.',
    );
    expect(parsePatch('32 x 48')).toMatch(/three whole numbers/);
  });

  it('accepts both presets as they are', () => {
    expect(settingProblems(PRESETS.quick, 'quick', 200)).toEqual({});
    expect(settingProblems(PRESETS.paper, 'paper', 200)).toEqual({});
  });

  it('explains bounds and invalid combinations in words, per setting', () => {
    const p = settingProblems(
      { ...PRESETS.quick, population: 2, workers: 8, generations: 3, alpha: 1.5, seed: 1.5 },
      'custom',
      2,
    );
    expect(p.population).toBe('Population must lie between 3 and 50.');
    expect(p.alpha).toMatch(/between 0 and 1/);
    expect(p.seed).toBe('Seed must be a whole number.');
    expect(p.dataset).toMatch(/2 usable cases; a search needs at least 3/);
    // With the population itself invalid, the workers are not compared with it.
    expect(p.workers).toBeUndefined();
    const combos = settingProblems({ ...PRESETS.quick, workers: 8, generations: 3 }, 'custom', 200);
    expect(combos.workers).toMatch(/Only 6 networks train per generation/);
    expect(combos.surrogate).toMatch(/would never be used: raise the generations to at least 4/);
    expect(settingProblems({ ...PRESETS.quick, generations: 3, surrogate: false }, 'custom', 200)).toEqual(
      {},
    );
    expect(settingProblems({ ...PRESETS.paper, generations: 11 }, 'paper', 200).surrogate).toMatch(
      /after the 10 learning generations/,
    );
  });

  it('builds the request the engine checks again: SaMEA config, training settings, workers', () => {
    const request = searchRequest(
      { ...PRESETS.quick, population: 3, generations: 2, patch: '32x48x32' },
      'custom',
    );
    expect(request).toEqual({
      config: {
        algorithm: 'samea',
        preset: 'quick',
        population: 3,
        neighbourhood: 3,
        generations: 2,
        learningGenerations: 1,
        seed: 12,
        objective: { alpha: 0.25, beta: 0.25, epochs: 6 },
        surrogate: { enabled: true },
      },
      problem: { epochs: 6, stepsPerEpoch: 20, maxMinutes: 0, patch: [32, 48, 32] },
      workers: 1,
    });
    expect(searchRequest(PRESETS.paper, 'paper').problem).not.toHaveProperty('patch');
  });
});

describe('the search wizard', () => {
  function client() {
    return new FakeClient({
      'dataset.list': () => ok([sampleRecord('Hippocampus')]),
      'search.estimate': () => ok(estimate),
      'search.start': () => ok(started),
    });
  }

  it('goes dataset -> preset -> settings -> estimate -> start, sending the settings chosen', async () => {
    const engine = client();
    const runs: RunSummary[] = [];
    const wizard = new SearchWizard(engine, (run) => runs.push(run));
    render(SearchWizardView, { wizard, onclose: () => undefined, onimport: () => undefined });
    await settle();
    // sampleRecord has a single usable case: the wizard says why it cannot go on.
    expect(screen.getByRole('alert').textContent).toMatch(/1 usable case; a search needs at least 3/);
    expect((screen.getByRole('button', { name: 'Next' }) as HTMLButtonElement).disabled).toBe(true);

    wizard.datasets = [{ ...sampleRecord('Hippocampus'), usable: 12 }];
    await settle();
    await fireEvent.click(screen.getByRole('button', { name: 'Next' }));
    await settle();
    await fireEvent.click(screen.getByLabelText(/^Custom/));
    await fireEvent.click(screen.getByRole('button', { name: 'Next' }));
    await settle();

    const population = screen.getByLabelText('Population') as HTMLInputElement;
    await fireEvent.input(population, { target: { value: '2' } });
    await settle();
    expect(population.getAttribute('aria-invalid')).toBe('true');
    expect(screen.getByText('Population must lie between 3 and 50.')).toBeTruthy();
    expect((screen.getByRole('button', { name: 'Next: estimate' }) as HTMLButtonElement).disabled).toBe(true);
    await fireEvent.input(population, { target: { value: '3' } });
    await fireEvent.input(screen.getByLabelText('Generations'), { target: { value: '2' } });
    await settle();
    expect(screen.getByText(/would never be used/)).toBeTruthy();
    await fireEvent.click(screen.getByLabelText(/Surrogate model on/));
    await fireEvent.input(screen.getByLabelText('Patch size (voxels)'), {
      target: { value: '32 x 48 x 32' },
    });
    await fireEvent.click(screen.getByRole('radio', { name: /The paper authors' code/ }));
    await settle();
    await fireEvent.click(screen.getByRole('button', { name: 'Next: estimate' }));
    await settle();

    const estimateCall = engine.calls.find((c) => c.method === 'search.estimate');
    // The estimate is asked for the search the wizard will start, its protocol included.
    expect(estimateCall?.input).toMatchObject({
      dataset: 'Hippocampus',
      config: { population: 3, generations: 2, surrogate: { enabled: false } },
      problem: { patch: [32, 48, 32] },
      protocol: 'reference',
    });
    expect(screen.getByTestId('estimate').textContent).toContain('48 min');
    expect(screen.getByTestId('estimate').textContent).toContain('300 MB');
    expect(screen.getByTestId('estimate').textContent).toContain('654,321 parameters each');
    expect(screen.getByTestId('estimate').textContent).toMatch(
      /batch of 2 32 × 48 × 16 slabs \(reference protocol\)/,
    );
    expect(screen.getByText(/Priced for the reference protocol/)).toBeTruthy();
    // Beside the estimate, how it compared with finished runs: the range bench:estimate-check stored.
    expect(checked.runs.length).toBeGreaterThan(0);
    expect(screen.getByTestId('estimate-accuracy').textContent).toContain(
      `${checked.time[0]}–${checked.time[1]}x their real time`,
    );
    // Another protocol is another search: the estimate is no longer current.
    expect(wizard.estimateIsCurrent).toBe(true);
    wizard.protocol = 'emonas';
    expect(wizard.estimateIsCurrent).toBe(false);
    wizard.protocol = 'reference';
    expect(wizard.estimateIsCurrent).toBe(true);
    await fireEvent.click(screen.getByRole('button', { name: 'Start the search' }));
    await settle();
    expect(engine.calls.find((c) => c.method === 'search.start')?.input).toEqual(estimateCall?.input);
    expect(runs.map((r) => r.runId)).toEqual(['run-1']);
    expect(wizard.step).toBe('dataset');
  });

  it("shows the engine's refusal as a sentence and stays on the step", async () => {
    const engine = new FakeClient({
      'dataset.list': () => ok([{ ...sampleRecord('H'), usable: 12 }]),
      'search.estimate': () =>
        fail({
          code: 'out_of_memory',
          message: 'The probe training could not run on the patch 128x128x128.',
        }),
    });
    const wizard = new SearchWizard(engine, () => undefined);
    render(SearchWizardView, { wizard, onclose: () => undefined, onimport: () => undefined });
    await wizard.load();
    wizard.go('estimate');
    await settle();
    expect(screen.getByRole('alert').textContent).toContain('could not run on the patch');
    expect(screen.getByRole('alert').textContent).toContain('smaller patch');
    expect(wizard.step).toBe('estimate');
  });

  it('offers the import wizard when the library is empty', async () => {
    const engine = new FakeClient({ 'dataset.list': () => ok([]) });
    let imported = 0;
    render(SearchWizardView, {
      wizard: new SearchWizard(engine, () => undefined),
      onclose: () => undefined,
      onimport: () => imported++,
    });
    await settle();
    await fireEvent.click(screen.getByRole('button', { name: 'Import a dataset…' }));
    expect(imported).toBe(1);
  });
});
