// Apply to new scans, the renderer's side against a stand-in engine: the models a run offers (its final model
// first, then its front most accurate first), the paths typed one per line, progress from the engine's
// events, the files that could not be predicted kept by name, the table's rows with each structure's volume,
// and a scan opened at its densest predicted slice (a 4D series' frame with its cine).
import { describe, expect, it } from 'vitest';
import { fail, ok } from '../../../core/api/envelope.ts';
import type { AppliedScans, FinalModel } from '../../../core/api/finish.ts';
import type { FrontCandidate, RunSummary } from '../../../core/api/runs.ts';
import {
  densestSlice,
  formatMl,
  modelChoices,
  scanRows,
  splitPaths,
  structureNames,
} from '../../../renderer/src/apply/apply-model.ts';
import { ApplyState } from '../../../renderer/src/apply/apply.svelte.ts';
import { FakeClient } from './fake-client.ts';

const GENOME = { learningRate: 1e-3, filters: 8, cells: 5, inputs: [0, 1, 1], ops: ['identity'] };

function candidate(id: string, f1: number, params: number): FrontCandidate {
  return {
    id,
    archiveIndex: 0,
    generation: 0,
    genome: GENOME as FrontCandidate['genome'],
    params,
    f1,
    f1Norm: f1,
    f2Norm: 0.5,
    valLoss: null,
    trainLoss: null,
    predictedF1Norm: null,
  };
}

const FINAL: FinalModel = {
  runId: 'run-a',
  state: 'finished',
  request: null,
  curves: [],
  model: {
    candidate: 'g1-c0',
    genome: GENOME as FrontCandidate['genome'],
    params: 1000,
    modelDir: '/runs/run-a/final',
    status: 'completed',
    reason: null,
    valDice: { Anterior: 0.8 },
    meanValDice: 0.8,
    epochsRun: 40,
    bestEpoch: 38,
    stoppedBy: 'budget',
    seconds: 60,
    startedFrom: 'fresh',
  },
};

const APPLIED: AppliedScans = {
  modelDir: '/runs/run-a/final',
  folder: '/out',
  scans: [
    { input: '/in/b.nii.gz', output: '/out/b.nii.gz', volumesMl: { Anterior: 1.5, Posterior: 12.25 } },
    { input: '/in/cine.nii.gz', frame: 2, output: '/out/cine_frame02.nii.gz', volumesMl: { Anterior: 0.5 } },
    { input: '/in/a.nii.gz', output: '/out/a.nii.gz', volumesMl: { Anterior: 2, Posterior: 3 } },
  ],
  failures: [{ file: '/in/broken.nii.gz', message: 'broken.nii.gz is not a NIfTI file.' }],
  postprocessing: { applied: false, labels: [], summary: 'No post-processing.' },
};

describe('the logic of applying a model', () => {
  it('offers the final model first, then the front most accurate first', () => {
    const choices = modelChoices(FINAL, [candidate('g0-c1', 0.6, 2000), candidate('g0-c0', 0.4, 5000)]);
    expect(choices.map((c) => c.value)).toEqual(['final', 'g0-c0', 'g0-c1']);
    expect(choices[0]?.label).toContain('validation Dice 0.800');
    expect(modelChoices(null, [candidate('g0-c0', 0.4, 5000)]).map((c) => c.value)).toEqual(['g0-c0']);
    expect(modelChoices({ ...FINAL, model: { ...FINAL.model!, status: 'failed' } }, [])).toEqual([]);
  });

  it('reads paths one per line and sorts rows by name with frames', () => {
    expect(splitPaths(' /a \n\n/b/c.nii.gz\r\n  ')).toEqual(['/a', '/b/c.nii.gz']);
    expect(scanRows(APPLIED).map((r) => r.name)).toEqual(['a.nii.gz', 'b.nii.gz', 'cine.nii.gz, frame 2']);
    expect(structureNames(APPLIED)).toEqual(['Anterior', 'Posterior']);
    expect([formatMl(12.25), formatMl(1.5), formatMl(undefined)]).toEqual(['12.3', '1.50', '–']);
  });

  it('finds the slice with the most predicted voxels, or none', () => {
    const labels = new Uint8Array(2 * 2 * 3);
    labels[4] = 1; // k = 1
    labels[8] = labels[9] = 2; // k = 2
    expect(densestSlice(labels, [2, 2, 3])).toBe(2);
    expect(densestSlice(new Uint8Array(12), [2, 2, 3])).toBeNull();
  });
});

describe('the apply page state', () => {
  function engine(
    answer: (overwrite: boolean) => ReturnType<typeof ok<AppliedScans>> | ReturnType<typeof fail>,
    runs: RunSummary[] = [],
  ) {
    const volume = (frames: number) => ({
      labels: { 0: 'background', 1: 'Anterior', 2: 'Posterior' },
      image: {
        data: new Float32Array(12),
        shape: [2, 2, 3] as [number, number, number],
        spacing: [1, 1, 1] as [number, number, number],
        origin: [0, 0, 0] as [number, number, number],
        direction: [1, 0, 0, 0, 1, 0, 0, 0, 1] as [
          number,
          number,
          number,
          number,
          number,
          number,
          number,
          number,
          number,
        ],
      },
      ...(frames > 1 && { cine: { frames, ed: 0, es: 0 } }),
    });
    return new FakeClient({
      'run.list': () => ok(runs),
      'final.get': () => ok(FINAL),
      'run.get': () => ok({ summary: {} as never, front: [candidate('g0-c0', 0.4, 5000)] }),
      'scans.apply': (input) => answer(input.overwrite === true),
      'scans.volume': (input) => {
        const v = volume(input.frame === undefined ? 1 : 4);
        const prediction = { ...v.image, data: new Uint8Array(12).fill(1, 0, 4) };
        return ok({ ...v, prediction });
      },
    });
  }

  it('applies the chosen model, keeps the failures by name and opens the first scan', async () => {
    const client = engine(() => ok(APPLIED));
    const state = new ApplyState(client, false);
    await state.chooseRun('run-a');
    expect(state.model).toBe('final');
    expect(state.problem).toBe('Give the images: files or folders, one per line.');
    state.inputs = '/in\n/in/cine.nii.gz';
    state.folder = ' /out ';
    expect(state.problem).toBeNull();
    const done = state.apply();
    client.emit('scans.progressed', { folder: '/out', done: 1, total: 3, file: '/in/a.nii.gz' });
    client.emit('scans.progressed', { folder: '/elsewhere', done: 9, total: 9, file: '/x' });
    expect(state.progress).toEqual({ folder: '/out', done: 1, total: 3, file: '/in/a.nii.gz' });
    await done;
    const sent = client.calls.find((c) => c.method === 'scans.apply')?.input;
    expect(sent).toEqual({
      runId: 'run-a',
      model: 'final',
      inputs: ['/in', '/in/cine.nii.gz'],
      folder: '/out',
    });
    expect(state.result?.failures.map((f) => f.file)).toEqual(['/in/broken.nii.gz']);
    expect(state.selected).toBe('/in/a.nii.gz');
    expect(state.panes.map((p) => p.title)).toEqual(['Image', 'Image + prediction']);
    expect(state.viewer?.startSlice).toBe(0);
    expect(state.cine).toBeNull();

    await state.open('/in/cine.nii.gz#2');
    expect(client.calls.at(-1)).toMatchObject({
      method: 'scans.volume',
      input: { frame: 2, model: 'final' },
    });
    expect(state.cine).not.toBeNull();
  });

  it("chooses the newest run on a first visit, the run page's run when asked, and keeps a choice", async () => {
    const runs = ['run-old', 'run-new'].map((runId) => ({ runId }) as RunSummary);
    const client = engine(() => ok(APPLIED), runs);
    const state = new ApplyState(client, false);
    await state.load();
    expect(state.runId).toBe('run-new');
    state.model = 'g0-c0';
    await state.load();
    expect(state.model).toBe('g0-c0');
    await state.load('run-old');
    expect([state.runId, state.model]).toEqual(['run-old', 'final']);
  });

  it('asks before replacing predictions and shows why nothing was written on no', async () => {
    const client = engine((overwrite) =>
      overwrite
        ? ok(APPLIED)
        : fail({ code: 'exists', message: '/out/a.nii.gz exists.', file: '/out/a.nii.gz' }),
    );
    const state = new ApplyState(client, false);
    await state.chooseRun('run-a');
    state.inputs = '/in';
    state.folder = '/out';
    const questions: string[] = [];
    state.confirmReplace = (q) => {
      questions.push(q);
      return false;
    };
    await state.apply();
    expect(questions).toEqual(['/out/a.nii.gz exists. Replace the predictions there?']);
    expect(state.error).toMatchObject({ code: 'exists' });
    expect(state.result).toBeNull();
    state.confirmReplace = () => true;
    await state.apply();
    expect(client.calls.filter((c) => c.method === 'scans.apply').at(-1)?.input).toMatchObject({
      overwrite: true,
    });
    expect(state.rows).toHaveLength(3);
  });
});
