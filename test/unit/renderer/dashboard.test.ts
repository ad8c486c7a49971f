import { fireEvent, render, screen, within } from '@testing-library/svelte';
import { tick } from 'svelte';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { FinalModel } from '../../../core/api/finish.ts';
import type { CandidateRow, RunProgress, RunState } from '../../../core/api/runs.ts';
import { domainOf, scale } from '../../../renderer/src/dashboard/chart-model.ts';
import Dashboard from '../../../renderer/src/dashboard/Dashboard.svelte';
import App from '../../../renderer/src/App.svelte';
import type { Connection } from '../../../renderer/src/api/connect.ts';
import type { ConnectionState } from '../../../renderer/src/api/websocket-client.ts';
import { DashboardState, etaOf, sortCandidates } from '../../../renderer/src/state/dashboard.svelte.ts';
import { Session } from '../../../renderer/src/state/session.svelte.ts';
import { FakeClient, ok } from './fake-client.ts';

const settle = async () => {
  for (let i = 0; i < 6; i++) {
    await Promise.resolve();
    await tick();
  }
};

afterEach(() => {
  vi.useRealTimers();
});

function candidate(id: string, over: Partial<CandidateRow> = {}): CandidateRow {
  return {
    id,
    generation: Number(/g(\d+)/.exec(id)?.[1] ?? 0),
    phase: 'initialisation',
    genome: {
      learningRate: 4e-4,
      filters: 8,
      cells: 5,
      inputs: [0, 1, 1],
      ops: ['conv3d_3x3x3', 'convP3d_3x3', 'convP3d_3x3', 'conv2d_5x5'],
    },
    params: 10_000,
    status: 'completed',
    f1: 0.5,
    f1Norm: 0.4,
    f2Norm: 0.3,
    valLoss: 0.45,
    trainLoss: 0.4,
    epochs: 3,
    seconds: 60,
    failure: null,
    predictedF1Norm: null,
    predictedStd: null,
    onFront: false,
    ...over,
  };
}

/** A run without a final model or a final training. */
const noFinal: FinalModel = { runId: 'run-1', state: 'none', request: null, model: null, curves: [] };

function progress(state: RunState, candidates: CandidateRow[], generations = 1): RunProgress {
  return {
    summary: {
      runId: 'run-1',
      runDir: '/d/runs/run-1',
      createdAt: '2025-01-01T00:00:00.000Z',
      algorithm: 'samea',
      problem: 'dataset',
      evaluated: candidates.filter((c) => c.status === 'completed' || c.status === 'failed').length,
      failed: candidates.filter((c) => c.status === 'failed').length,
      state,
      lastActivity: null,
    },
    plan: {
      generations: 2,
      population: 3,
      maxEvaluations: null,
      epochs: 3,
      expectedCandidates: 6,
      surrogate: true,
      workers: 1,
      dataset: '/data/Hippo',
    },
    generations: Array.from({ length: generations }, (_, g) => ({
      generation: g,
      phase: 'learning',
      evaluated: 3 * (g + 1),
      frontSize: 2,
      hypervolume: 0.5 + g * 0.1,
      kendallTau: null,
    })),
    candidates,
    meanCandidateSeconds: 60,
    preparing: null,
  };
}

const three = [
  candidate('g0-c0', { params: 20_000, f1: 0.3, onFront: true }),
  candidate('g0-c1', { params: 5_000, f1: 0.6, onFront: true }),
  candidate('g0-c2', {
    status: 'failed',
    f1: 1.5,
    valLoss: null,
    failure: { code: 'out_of_memory', reason: 'The training worker ran out of memory in epoch 2 of 3.' },
  }),
];

describe('the dashboard model', () => {
  it('sorts candidates by any column, empty values last, ties by id', () => {
    const rows = [
      candidate('g1-c0', { f1: null, status: 'training' }),
      candidate('g0-c1', { f1: 0.2 }),
      candidate('g0-c10', { f1: 0.2 }),
      candidate('g0-c2', { f1: 0.9 }),
    ];
    expect(sortCandidates(rows, 'f1', true).map((r) => r.id)).toEqual(['g0-c1', 'g0-c10', 'g0-c2', 'g1-c0']);
    expect(sortCandidates(rows, 'f1', false).map((r) => r.id)).toEqual(['g0-c2', 'g0-c1', 'g0-c10', 'g1-c0']);
    expect(sortCandidates(rows, 'status', true)[0]?.id).toBe('g0-c1');
  });

  it('counts done candidates against the plan and gives the time left at the pace so far', () => {
    const p = progress('running', [...three, candidate('g1-c0', { status: 'training', f1: null })]);
    expect(etaOf(p)).toEqual({ done: 3, total: 6, seconds: 180 });
    expect(etaOf({ ...p, plan: { ...p.plan, workers: 2 } }).seconds).toBe(120);
    expect(etaOf({ ...p, meanCandidateSeconds: null }).seconds).toBeNull();
  });

  it('scales charts with round ticks, linear and log', () => {
    const [lo, hi] = domainOf([0.2, 0.8]);
    expect(lo).toBeLessThan(0.2);
    expect(hi).toBeGreaterThan(0.8);
    const s = scale([0, 1], 0, 100);
    expect(s(0.5)).toBe(50);
    expect(s.ticks.map((t) => t.text)).toEqual(['0', '0.2', '0.4', '0.6', '0.8', '1']);
    const log = scale([1000, 1_000_000], 0, 300, true);
    expect(log(10_000)).toBeCloseTo(100);
    expect(log.ticks.map((t) => t.value)).toEqual([1000, 10_000, 100_000, 1_000_000]);
    expect(domainOf([])).toEqual([0, 1]);
    expect(scale([-0.1, 1.1], 0, 100, false, true).ticks.map((t) => t.text)).toEqual(['0', '1']);
    expect(scale([1000, 2_000_000], 0, 100, true).ticks.map((t) => t.text)).toEqual([
      '1000',
      '10k',
      '100k',
      '1M',
    ]);
  });

  it('fetches the whole state on events instead of trusting them, so throttled events lose nothing', async () => {
    vi.useFakeTimers();
    let state = progress('running', three.slice(0, 1));
    const client = new FakeClient({ 'run.progress': () => ok(state), 'final.get': () => ok(noFinal) });
    const dashboard = new DashboardState(client);
    await dashboard.open('run-1');
    expect(dashboard.progress?.candidates).toHaveLength(1);
    // Two candidates finish, but throttling delivered only the second one's event.
    state = progress('running', three);
    client.emit('candidate.completed', {
      runId: 'run-1',
      id: 'g0-c2',
      outcome: { status: 'failed', code: 'out_of_memory', reason: 'x' },
      seconds: 1,
    });
    client.emit('generation.completed', { runId: 'run-1', record: {} });
    client.emit('candidate.completed', {
      runId: 'another-run',
      id: 'g0-c0',
      outcome: { status: 'completed', f1: 0.1 },
      seconds: 1,
    });
    await vi.advanceTimersByTimeAsync(200);
    expect(client.calls.filter((c) => c.method === 'run.progress')).toHaveLength(2);
    expect(dashboard.progress?.candidates.map((c) => c.id)).toEqual(['g0-c0', 'g0-c1', 'g0-c2']);
    // With no event at all, a running run is still fetched again every few seconds.
    state = progress('finished', three);
    await vi.advanceTimersByTimeAsync(5100);
    expect(dashboard.progress?.summary.state).toBe('finished');
    dashboard.close();
  });
});

describe('the dashboard', () => {
  it('shows progress, the front, failures with reasons, and a chosen candidate with its curves', async () => {
    const client = new FakeClient({
      'final.get': () => ok(noFinal),
      'run.progress': () =>
        ok(progress('running', [...three, candidate('g1-c0', { status: 'training', f1: null })])),
      'candidate.curves': () =>
        ok([
          { epoch: 0, trainLoss: 0.9, valLoss: 0.95, valDice: { Anterior: 0.2, Posterior: 0.3 } },
          { epoch: 1, trainLoss: 0.6, valLoss: 0.7, valDice: { Anterior: 0.5, Posterior: 0.55 } },
        ]),
      'search.pause': () => ok(progress('stopping', three).summary),
    });
    const dashboard = new DashboardState(client);
    const reviewed: string[] = [];
    render(Dashboard, { dashboard, onclose: () => undefined, onreview: (id: string) => reviewed.push(id) });
    await dashboard.open('run-1');
    await settle();
    expect(screen.getByTestId('candidates-done').textContent).toBe('3');
    expect(screen.getByText(/About 3 min left/)).toBeTruthy();
    expect(screen.getByText(/Training now/).textContent).toContain('g1-c0');
    const table = screen.getByRole('table');
    const failedRow = within(table).getByRole('rowheader', { name: /g0-c2/ }).closest('tr') as HTMLElement;
    expect(failedRow.textContent).toContain('ran out of memory in epoch 2');
    // Both front points are drawn as buttons, with the failed candidate apart.
    expect(
      screen.getByRole('button', { name: /g0-c0: 20,000 parameters, f1 0.3000, on the front/ }),
    ).toBeTruthy();
    expect(screen.getByRole('button', { name: /g0-c2: .*failed/ })).toBeTruthy();
    expect(screen.getByRole('group', { name: 'Hypervolume per generation' })).toBeTruthy();

    await fireEvent.click(screen.getByRole('button', { name: /g0-c0: 20,000 parameters/ }));
    await settle();
    expect(screen.getByRole('heading', { name: 'Candidate g0-c0' })).toBeTruthy();
    expect(screen.getByText('8 filters, 5 cells, learning rate 0.0004')).toBeTruthy();
    expect(screen.getByRole('group', { name: 'Learning curves of g0-c0' })).toBeTruthy();
    expect(screen.getByRole('group', { name: 'Validation Dice of g0-c0' })).toBeTruthy();
    await fireEvent.click(screen.getByRole('button', { name: 'Review its predictions…' }));
    expect(reviewed).toEqual(['g0-c0']);

    const sortByF1 = screen.getByRole('button', { name: 'f1' });
    await fireEvent.click(sortByF1);
    await settle();
    const ids = within(table)
      .getAllByRole('rowheader')
      .map((h) => h.textContent?.replace('front', '').trim());
    expect(ids).toEqual(['g0-c0', 'g0-c1', 'g0-c2', 'g1-c0']);
    expect(sortByF1.closest('th')?.getAttribute('aria-sort')).toBe('ascending');

    await fireEvent.click(screen.getByRole('button', { name: 'Pause' }));
    await settle();
    expect(client.calls.find((c) => c.method === 'search.pause')?.input).toEqual({ runId: 'run-1' });
    dashboard.close();
  });

  it('says an interrupted run was interrupted and offers resume; cancel asks first', async () => {
    let state: RunState = 'interrupted';
    const client = new FakeClient({
      'final.get': () => ok(noFinal),
      'run.progress': () => ok(progress(state, three)),
      'search.resume': () => {
        state = 'running';
        return ok(progress('running', three).summary);
      },
      'search.cancel': () => {
        state = 'cancelled';
        return ok(progress('cancelled', three).summary);
      },
    });
    const dashboard = new DashboardState(client);
    render(Dashboard, { dashboard, onclose: () => undefined, onreview: () => undefined });
    await dashboard.open('run-1');
    await settle();
    expect(screen.getByRole('status').textContent).toMatch(/interrupted: the engine driving it stopped/);
    await fireEvent.click(screen.getByRole('button', { name: 'Resume' }));
    await settle();
    expect(screen.getByRole('button', { name: 'Pause' })).toBeTruthy();
    await fireEvent.click(screen.getByRole('button', { name: 'Cancel…' }));
    await settle();
    expect(client.calls.some((c) => c.method === 'search.cancel')).toBe(false);
    await fireEvent.click(screen.getByRole('button', { name: 'Cancel the search' }));
    await settle();
    expect(client.calls.some((c) => c.method === 'search.cancel')).toBe(true);
    expect(screen.queryByRole('button', { name: 'Resume' })).toBeNull();
    expect(screen.getByText('cancelled')).toBeTruthy();
    dashboard.close();
  });
});

describe('a run its time budget stopped', () => {
  it('says so on its badge and in words, not paused, and Resume continues it', async () => {
    const stopped = progress('stopped-at-budget', three);
    const budgeted: RunProgress = {
      ...stopped,
      summary: { ...stopped.summary, stoppedAtBudget: { minutes: 9, at: '2025-01-01T00:09:00.000Z' } },
    };
    let current = budgeted;
    const client = new FakeClient({
      'final.get': () => ok(noFinal),
      'run.progress': () => ok(current),
      'search.resume': () => {
        current = progress('running', three);
        return ok(current.summary);
      },
    });
    const dashboard = new DashboardState(client);
    render(Dashboard, { dashboard, onclose: () => undefined, onreview: () => undefined });
    await dashboard.open('run-1');
    await settle();
    expect(screen.getByText('stopped at its 9-minute time budget')).toBeTruthy();
    expect(screen.queryByText('paused')).toBeNull();
    const notice = screen.getByRole('status').textContent ?? '';
    expect(notice).toMatch(/This search stopped at its 9-minute time budget, before its last generation/);
    expect(notice).toMatch(/nobody paused it/);
    await fireEvent.click(screen.getByRole('button', { name: 'Resume' }));
    await settle();
    expect(client.calls.find((c) => c.method === 'search.resume')?.input).toEqual({ runId: 'run-1' });
    expect(screen.getByRole('button', { name: 'Pause' })).toBeTruthy();
    expect(screen.queryByText(/time budget/)).toBeNull();
    dashboard.close();
  });
});

/** A stand-in for the WebSocket connection: its state is set by the test. */
function fakeSocketConnection(client: FakeClient) {
  const listeners = new Set<(s: ConnectionState) => void>();
  const socket = {
    state: 'open' as ConnectionState,
    address: 'ws://127.0.0.1:8765/api',
    reconnects: 0,
    targets: [] as string[],
    onStateChange(l: (s: ConnectionState) => void) {
      listeners.add(l);
      return () => listeners.delete(l);
    },
    reconnectNow() {
      this.reconnects++;
    },
    retarget(url: string) {
      this.targets.push(url);
    },
    set(state: ConnectionState) {
      this.state = state;
      for (const l of listeners) l(state);
    },
  };
  const connection = { kind: 'websocket', client, socket } as unknown as Connection;
  return { connection, socket };
}

describe('an engine that goes away', () => {
  it('says so in a sentence, offers reconnect, and fetches everything again once it is back', async () => {
    const client = new FakeClient({
      'dataset.list': () => ok([]),
      'run.list': () => ok([]),
      'final.list': () => ok([]),
      'final.get': () => ok(noFinal),
      'run.progress': () => ok(progress('running', three)),
      'app.doctor': () =>
        ok({
          backend: 'cpu',
          backends: [],
          engine: { version: '1', node: '20', platform: 'linux', cpus: 2, memoryGb: 4 },
        }),
    });
    const { connection, socket } = fakeSocketConnection(client);
    const session = new Session(connection);
    render(App, { session });
    session.navigation.go('searches');
    await session.dashboard.open('run-1');
    await settle();
    expect(screen.queryByText(/The engine stopped answering/)).toBeNull();
    expect(screen.getByRole('button', { name: 'Pause' })).toBeTruthy();

    socket.set('closed');
    await settle();
    // The run's last known state stays on screen, but nothing can be asked of an engine that is gone.
    expect(screen.getByText('engine unreachable')).toBeTruthy();
    expect(screen.queryByRole('button', { name: 'Pause' })).toBeNull();
    const alert = screen.getByText(/The engine stopped answering/).closest('[role="alert"]') as HTMLElement;
    expect(alert.textContent).toContain('ws://127.0.0.1:8765/api');
    expect(alert.textContent).toMatch(/interrupted, not lost/);
    await fireEvent.click(within(alert).getByRole('button', { name: 'Reconnect now' }));
    expect(socket.reconnects).toBe(1);

    await fireEvent.input(within(alert).getByLabelText(/new engine address/), {
      target: { value: 'nonsense' },
    });
    await fireEvent.click(within(alert).getByRole('button', { name: 'Connect' }));
    await settle();
    expect(alert.textContent).toMatch(/not an address|does not know its engine/);
    await fireEvent.input(within(alert).getByLabelText(/new engine address/), {
      target: { value: 'http://127.0.0.1:9000/?token=abc' },
    });
    await fireEvent.click(within(alert).getByRole('button', { name: 'Connect' }));
    expect(socket.targets).toEqual(['ws://127.0.0.1:9000/api?token=abc']);

    const before = client.calls.length;
    socket.set('open');
    await settle();
    expect(screen.queryByText(/The engine stopped answering/)).toBeNull();
    const again = client.calls.slice(before).map((c) => c.method);
    expect(again).toEqual(
      expect.arrayContaining(['run.list', 'final.list', 'dataset.list', 'run.progress', 'final.get']),
    );
    session.dashboard.close();
  });
});
