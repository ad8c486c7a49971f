// The run page's final model and final training (settings, live curves, pause, resume, cancel), and a model's
// test evaluation (worst case first, a row opening its case), against a stand-in engine; and the dataset's
// own report as table rows.
import { fireEvent, render, screen, within } from '@testing-library/svelte';
import { tick } from 'svelte';
import { describe, expect, it } from 'vitest';
import type { VolumeData } from '../../../core/api/datasets.ts';
import type { FinalModel, TestEvaluation } from '../../../core/api/finish.ts';
import type { ReviewedCase, StructureScores } from '../../../core/api/review.ts';
import type { CandidateRow } from '../../../core/api/runs.ts';
import FinalPanel from '../../../renderer/src/final/FinalPanel.svelte';
import { FinalTraining } from '../../../renderer/src/final/final-training.svelte.ts';
import { TestEvaluationState } from '../../../renderer/src/final/test-evaluation.svelte.ts';
import { reportRows } from '../../../renderer/src/final/test-report.ts';
import { FakeClient, ok } from './fake-client.ts';

const settle = async () => {
  for (let i = 0; i < 6; i++) {
    await Promise.resolve();
    await tick();
  }
};

const point = (epoch: number) => ({
  epoch,
  trainLoss: 1 - epoch / 10,
  valLoss: 1.1 - epoch / 10,
  valDice: { Anterior: 0.3 + epoch / 20, Posterior: 0.2 + epoch / 20 },
});

const trainedModel: NonNullable<FinalModel['model']> = {
  candidate: 'g0-c1',
  genome: {
    learningRate: 4e-4,
    filters: 8,
    cells: 5,
    inputs: [0, 1, 1],
    ops: ['conv3d_3x3x3', 'convP3d_3x3', 'convP3d_3x3', 'conv2d_5x5'],
  },
  params: 123_456,
  modelDir: '/d/runs/run-1/final',
  status: 'completed',
  reason: null,
  valDice: { Anterior: 0.812, Posterior: 0.79 },
  meanValDice: 0.801,
  epochsRun: 3,
  bestEpoch: 2,
  stoppedBy: 'budget',
  seconds: 95,
  startedFrom: { candidate: 'g0-c1', sha256: 'abc' },
};

function final(over: Partial<FinalModel> = {}): FinalModel {
  return { runId: 'run-1', state: 'none', request: null, model: null, curves: [], ...over };
}

const row = (id: string, f1: number, onFront: boolean) =>
  ({ id, params: 20_000, f1, onFront, status: 'completed' }) as CandidateRow;

describe('the final training', () => {
  it('starts with the settings given (empty ones left to the engine), shows live curves, pauses and resumes', async () => {
    let current = final();
    const client = new FakeClient({
      'final.get': () => ok(current),
      'final.start': (input) => {
        current = final({
          state: 'running',
          request: {
            candidate: input.candidate ?? null,
            epochs: input.epochs ?? 1000,
            stepsPerEpoch: input.stepsPerEpoch ?? 50,
            maxMinutes: input.maxMinutes ?? 0,
            fresh: input.fresh ?? false,
          },
        });
        return ok(current);
      },
      'final.pause': () => {
        current = { ...current, state: 'paused' };
        return ok(current);
      },
      'final.resume': () => {
        current = { ...current, state: 'running' };
        return ok(current);
      },
    });
    const training = new FinalTraining(client);
    const evaluated: string[] = [];
    render(FinalPanel, {
      final: training,
      candidates: [row('g0-c0', 0.3, true), row('g0-c1', 0.4, true)],
      onevaluate: (m: string) => evaluated.push(m),
    });
    await training.open('run-1');
    await settle();
    expect(screen.getByText(/No final model yet/)).toBeTruthy();

    // "Train this network fully…" on a candidate opens the form with that candidate chosen.
    training.chooseCandidate('g0-c1');
    await settle();
    const form = screen.getByRole('form', { name: 'Train this network fully' });
    expect((within(form).getByLabelText('Network') as HTMLSelectElement).value).toBe('g0-c1');
    await fireEvent.input(within(form).getByLabelText('Epochs'), { target: { value: '3' } });
    await fireEvent.input(within(form).getByLabelText('Steps per epoch'), { target: { value: '2' } });
    await fireEvent.click(within(form).getByLabelText(/a new initialisation/));
    await fireEvent.click(within(form).getByRole('button', { name: 'Start the final training' }));
    await settle();
    expect(client.calls.find((c) => c.method === 'final.start')?.input).toEqual({
      runId: 'run-1',
      candidate: 'g0-c1',
      epochs: 3,
      stepsPerEpoch: 2,
      fresh: true,
    });
    expect(screen.queryByRole('form', { name: 'Train this network fully' })).toBeNull();
    expect(screen.getByTestId('final-state').textContent).toBe('training');

    // Epochs arrive as events: the curves and the count grow without another fetch.
    const fetches = client.calls.filter((c) => c.method === 'final.get').length;
    client.emit('final.progressed', { runId: 'run-1', point: point(0), epochs: 3, etaSeconds: 120 });
    client.emit('final.progressed', { runId: 'other-run', point: point(5), epochs: 3, etaSeconds: 1 });
    await settle();
    expect(client.calls.filter((c) => c.method === 'final.get')).toHaveLength(fetches);
    expect(screen.getByTestId('final-epochs').textContent).toBe('1');
    expect(screen.getByText(/About 2 min left/)).toBeTruthy();
    expect(screen.getByRole('group', { name: /Learning curves of the final training/ })).toBeTruthy();

    await fireEvent.click(screen.getByRole('button', { name: 'Pause' }));
    await settle();
    expect(screen.getByTestId('final-state').textContent).toBe('paused');
    await fireEvent.click(screen.getByRole('button', { name: 'Resume' }));
    await settle();
    expect(client.calls.map((c) => c.method)).toEqual(
      expect.arrayContaining(['final.pause', 'final.resume']),
    );
    expect(evaluated).toEqual([]);
  });

  it('shows the final model a training left, fetched again on its end event, and evaluates it on request', async () => {
    let current = final({
      state: 'running',
      request: { candidate: null, epochs: 3, stepsPerEpoch: 2, maxMinutes: 0, fresh: false },
      curves: [point(0), point(1)],
    });
    const client = new FakeClient({ 'final.get': () => ok(current) });
    const training = new FinalTraining(client);
    const evaluated: string[] = [];
    render(FinalPanel, { final: training, candidates: [], onevaluate: (m: string) => evaluated.push(m) });
    await training.open('run-1');
    await settle();
    expect(screen.getByText(/Training the front's most accurate candidate/)).toBeTruthy();

    current = final({ state: 'finished', model: trainedModel, curves: [point(0), point(1), point(2)] });
    // The end event is a cue: what is shown is what final.get answers.
    client.emit('final.ended', { final: final({ state: 'finished' }) });
    await settle();
    const models = screen.getByTestId('final-models');
    expect(models.textContent).toContain('123,456');
    expect(screen.getByTestId('final-dice').textContent).toMatch(
      /mean 0\.801.*Anterior 0\.812, Posterior 0\.790/,
    );
    expect(models.textContent).toContain('3 epochs, best 3, stopped by its epochs');
    expect(screen.queryByRole('button', { name: 'Pause' })).toBeNull();
    await fireEvent.click(within(models).getByRole('button', { name: 'Evaluate on the test cases' }));
    expect(evaluated).toEqual(['final']);
  });

  it('offers resume for an interrupted training after a reconnection, and cancel only after asking', async () => {
    let current = final({
      state: 'interrupted',
      request: { candidate: 'g0-c0', epochs: 5, stepsPerEpoch: 2, maxMinutes: 0, fresh: false },
      curves: [point(0)],
    });
    const client = new FakeClient({
      'final.get': () => ok(current),
      'final.cancel': () => {
        current = final();
        return ok(current);
      },
    });
    const training = new FinalTraining(client);
    render(FinalPanel, { final: training, candidates: [] });
    await training.open('run-1');
    await settle();
    expect(screen.getByText(/This final training was interrupted/)).toBeTruthy();
    expect(screen.getByRole('button', { name: 'Resume' })).toBeTruthy();
    await fireEvent.click(screen.getByRole('button', { name: 'Cancel…' }));
    expect(client.calls.some((c) => c.method === 'final.cancel')).toBe(false);
    await fireEvent.click(screen.getByRole('button', { name: 'Cancel the training' }));
    await settle();
    expect(client.calls.filter((c) => c.method === 'final.cancel')).toHaveLength(1);
    expect(screen.getByText(/No final model yet/)).toBeTruthy();
  });
});

const scores = (dice: number): StructureScores =>
  ({ dice, hd95: 3, assd: 1, nsd: 0.5, hd: 4, volumeReference: 1, volumePrediction: 1 }) as StructureScores;

const tested = (id: string, dice: number): ReviewedCase => ({
  id,
  meanDice: dice,
  structures: { Anterior: scores(dice), Posterior: scores(dice) },
});

function volume(data: Uint8Array | Float32Array): VolumeData {
  return {
    data,
    shape: [2, 2, 2],
    spacing: [1, 1, 1],
    origin: [0, 0, 0],
    direction: [1, 0, 0, 0, 1, 0, 0, 0, 1],
  };
}

describe('the test evaluation', () => {
  it('lists the cases worst first, opens the worst with its error map, and a row opens another', async () => {
    const evaluation: TestEvaluation = {
      runId: 'run-1',
      model: 'final',
      modelDir: '/d/runs/run-1/final',
      datasetKind: 'msd',
      structures: { Anterior: 1, Posterior: 2 },
      cases: [tested('hippocampus_004', 0.4), tested('hippocampus_002', 0.7), tested('hippocampus_009', 0.2)],
      mean: {},
      report: null,
      predicted: 3,
      postprocessing: { applied: false, labels: [], summary: 'No post-processing.' },
      problems: [],
    };
    const opened: string[] = [];
    const client = new FakeClient({
      'test.evaluate': () => ok(evaluation),
      'test.case': ({ caseId }) => {
        opened.push(caseId);
        return ok({
          runId: 'run-1',
          candidateId: 'final',
          caseId,
          labels: { 0: 'background', 1: 'Anterior', 2: 'Posterior' },
          image: volume(new Float32Array(8)),
          label: volume(Uint8Array.from([0, 1, 1, 2, 0, 0, 0, 0])),
          prediction: volume(Uint8Array.from([0, 1, 0, 2, 2, 0, 0, 0])),
        });
      },
    });
    const test = new TestEvaluationState(client, 'run-1', 'final');
    client.emit('test.progressed', { runId: 'run-1', model: 'final', done: 1, total: 3, caseId: 'x' });
    client.emit('test.progressed', { runId: 'run-1', model: 'g0-c1', done: 3, total: 9, caseId: 'x' });
    expect(test.progress).toEqual({ done: 1, total: 3 });
    await test.load();
    expect(test.rows.map((r) => r.id)).toEqual(['hippocampus_009', 'hippocampus_004', 'hippocampus_002']);
    expect(opened).toEqual(['hippocampus_009']);
    expect(test.panes.map((p) => p.title)).toEqual([
      'Ground truth',
      'Prediction of the final model',
      'Errors of the prediction',
    ]);
    // One missed voxel (value 1) and one extra voxel (value 2) in the error map.
    expect(Array.from(test.panes[2]?.labels ?? [])).toEqual([0, 0, 1, 0, 2, 0, 0, 0]);
    await test.open('hippocampus_002');
    expect(test.current?.caseId).toBe('hippocampus_002');
    expect(client.calls.find((c) => c.method === 'test.evaluate')?.input).toEqual({
      runId: 'run-1',
      model: 'final',
    });
    test.close();
  });

  it("turns the dataset's own report into rows, a summary per row, lists left out", () => {
    const rows = reportRows({
      tau: 1,
      perLabel: {
        Anterior: { dice: { mean: 0.8, std: 0.1, median: 0.82, n: 4 } },
        Posterior: { dice: { mean: 0.7, std: 0.05, median: 0.71, n: 4 } },
      },
      perPatient: [{ id: 'p1', edv: 3 }],
    });
    expect(rows).toEqual([
      { path: ['tau'], values: { value: 1 } },
      { path: ['perLabel', 'Anterior', 'dice'], values: { mean: 0.8, std: 0.1, median: 0.82, n: 4 } },
      { path: ['perLabel', 'Posterior', 'dice'], values: { mean: 0.7, std: 0.05, median: 0.71, n: 4 } },
    ]);
    expect(reportRows(null)).toEqual([]);
  });
});
