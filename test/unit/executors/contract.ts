// The executor contract as a test suite any executor can run: call executorContract(name, factory) from
// a *.test.ts file. The factory builds an executor whose evaluator is probeEvaluate (probe-evaluator.ts),
// e.g. for a worker pool, one that loads that module in its workers.
import { describe, expect, it } from 'vitest';
import { EmonasError } from '../../../core/base/errors.ts';
import type { EvaluationTask, Executor, TaskResult } from '../../../core/executors/executor.ts';
import { sanitiseOutcome } from '../../../core/search/archive.ts';
import { decode } from '../../../core/searchspace/encoding.ts';
import { probeF1, type ProbeBehaviour } from './probe-evaluator.ts';

export interface ContractFactory {
  /** A fresh executor running probeEvaluate. */
  create(): Promise<Executor>;
  /** Milliseconds a probe task should take so that tasks overlap; default 40. */
  delayMs?: number;
  /** Longest time to wait for a batch of probe tasks; default 20 s. */
  timeoutMs?: number;
  /**
   * Ends an executor the way a coordinator that dies does, leaving its work running; required when the
   * executor can reattach (capabilities().canReattach), whose contract is to take that work back.
   */
  abandon?(executor: Executor): Promise<void>;
}

const INDICES = [6, 1, 1, 1, 2, 3, 1, 4, 4, 3];

export function probeTask(id: string, behaviour: ProbeBehaviour = 'ok', delayMs = 40): EvaluationTask {
  return {
    id,
    genome: decode(INDICES),
    indices: INDICES,
    seed: 7,
    payload: { probe: { delayMs, behaviour } },
  };
}

/** Collects until every id has a result or the timeout passes; returns results in arrival order. */
export async function collectAll(
  executor: Executor,
  ids: string[],
  timeoutMs: number,
): Promise<TaskResult[]> {
  const wanted = new Set(ids);
  const results: TaskResult[] = [];
  const deadline = Date.now() + timeoutMs;
  while ([...wanted].some((id) => !results.some((r) => r.id === id)) && Date.now() < deadline) {
    const batch = await executor.collect();
    results.push(...batch);
    if (batch.length === 0) await executor.waitForResults(Math.min(200, Math.max(1, deadline - Date.now())));
  }
  return results;
}

export function executorContract(name: string, factory: ContractFactory): void {
  const delay = factory.delayMs ?? 40;
  const timeout = factory.timeoutMs ?? 20_000;
  const task = (id: string, behaviour: ProbeBehaviour = 'ok'): EvaluationTask =>
    probeTask(id, behaviour, delay);

  async function using<T>(run: (executor: Executor) => Promise<T>): Promise<T> {
    const executor = await factory.create();
    try {
      return await run(executor);
    } finally {
      await executor.close();
    }
  }

  describe(`executor contract: ${name}`, () => {
    it('reports its capabilities', () =>
      using(async (executor) => {
        const caps = await executor.capabilities();
        expect(caps.kind.length).toBeGreaterThan(0);
        expect(Number.isInteger(caps.slots) && caps.slots >= 1).toBe(true);
        expect(Array.isArray(caps.devices)).toBe(true);
        expect(typeof caps.canReattach).toBe('boolean');
      }));

    it('returns one JSON-able handle per task, in order', () =>
      using(async (executor) => {
        const tasks = ['a', 'b', 'c'].map((id) => task(id));
        const handles = await executor.submit(tasks);
        expect(handles.map((h) => h.id)).toEqual(['a', 'b', 'c']);
        expect(JSON.parse(JSON.stringify(handles))).toEqual(handles);
        await collectAll(executor, ['a', 'b', 'c'], timeout);
      }));

    it('hands every result out exactly once, matched to its task', () =>
      using(async (executor) => {
        const ids = ['r0', 'r1', 'r2', 'r3', 'r4'];
        await executor.submit(ids.map((id) => task(id)));
        const results = await collectAll(executor, ids, timeout);
        expect(results.map((r) => r.id).sort()).toEqual(ids);
        for (const r of results) expect(r.outcome).toEqual({ status: 'completed', f1: probeF1(r.id) });
        expect(await executor.collect()).toEqual([]);
        expect(await executor.poll()).toEqual([]);
      }));

    it('turns an evaluator that throws into a failed result and keeps working', () =>
      using(async (executor) => {
        await executor.submit([task('bad', 'throw'), task('good')]);
        const results = await collectAll(executor, ['bad', 'good'], timeout);
        const bad = results.find((r) => r.id === 'bad');
        expect(bad?.outcome.status).toBe('failed');
        expect(bad?.outcome.status === 'failed' && bad.outcome.reason).toContain('probe failure in bad');
        expect(results.find((r) => r.id === 'good')?.outcome.status).toBe('completed');
      }));

    it('delivers a diverged evaluation so that the search sees it as diverged', () =>
      using(async (executor) => {
        await executor.submit([task('nan', 'nan')]);
        const [result] = await collectAll(executor, ['nan'], timeout);
        expect(sanitiseOutcome(result?.outcome)).toMatchObject({ status: 'failed', code: 'diverged' });
      }));

    it('runs at most `slots` evaluations at a time, and uses them all', () =>
      using(async (executor) => {
        const { slots } = await executor.capabilities();
        const ids = Array.from({ length: slots * 3 }, (_, i) => `s${i}`);
        await executor.submit(ids.map((id) => task(id)));
        let peak = 0;
        const results: TaskResult[] = [];
        const deadline = Date.now() + timeout;
        while (results.length < ids.length && Date.now() < deadline) {
          const running = (await executor.poll()).filter((s) => s.state === 'running').length;
          expect(running).toBeLessThanOrEqual(slots);
          peak = Math.max(peak, running);
          results.push(...(await executor.collect()));
          await executor.waitForResults(5);
        }
        expect(results).toHaveLength(ids.length);
        expect(peak).toBe(slots);
      }));

    it('reports queued, running and finished states until collected', () =>
      using(async (executor) => {
        const { slots } = await executor.capabilities();
        const ids = Array.from({ length: slots + 1 }, (_, i) => `p${i}`);
        await executor.submit(ids.map((id) => task(id)));
        const states = await executor.poll();
        expect(states.map((s) => s.id).sort()).toEqual([...ids].sort());
        for (const s of states) expect(['queued', 'running', 'finished']).toContain(s.state);
        await collectAll(executor, ids, timeout);
        expect(await executor.poll()).toEqual([]);
      }));

    it('refuses a task id that is still pending', () =>
      using(async (executor) => {
        await executor.submit([task('twice')]);
        await expect(executor.submit([task('twice')])).rejects.toSatisfy(
          (err: unknown) => err instanceof EmonasError && err.code === 'conflict',
        );
        await collectAll(executor, ['twice'], timeout);
        await executor.submit([task('twice')]);
        expect(await collectAll(executor, ['twice'], timeout)).toHaveLength(1);
      }));

    it('cancels running and queued tasks, which come back as cancelled', () =>
      using(async (executor) => {
        const { slots } = await executor.capabilities();
        const ids = Array.from({ length: slots + 1 }, (_, i) => `h${i}`);
        await executor.submit(ids.map((id) => task(id, 'hang')));
        await executor.cancel([...ids, 'unknown']);
        const results = await collectAll(executor, ids, timeout);
        expect(results.map((r) => r.id).sort()).toEqual([...ids].sort());
        for (const r of results) expect(r.outcome).toMatchObject({ status: 'failed', code: 'cancelled' });
      }));

    it('wakes a waiter when a result is ready, and otherwise after the timeout', () =>
      using(async (executor) => {
        const started = Date.now();
        await executor.waitForResults(50);
        expect(Date.now() - started).toBeGreaterThanOrEqual(40);
        await executor.submit([task('w')]);
        const t0 = Date.now();
        await executor.waitForResults(timeout);
        expect(Date.now() - t0).toBeLessThan(timeout);
        expect((await executor.collect()).map((r) => r.id)).toEqual(['w']);
      }));

    it('reattaches only to what it still knows; the rest can be submitted again', async () => {
      const first = await factory.create();
      const ids = ['x1', 'x2'];
      const handles = await first.submit(ids.map((id) => task(id, 'hang')));
      const { canReattach } = await first.capabilities();
      if (canReattach) {
        expect(factory.abandon, 'an executor that can reattach needs abandon() in its factory').toBeDefined();
        await factory.abandon?.(first);
      } else {
        await first.close();
      }
      await using(async (second) => {
        const back = await second.reattach(handles);
        expect([...back].sort()).toEqual(canReattach ? ids : []);
        await second.cancel(back);
        const cancelled = await collectAll(second, back, timeout);
        expect(cancelled.map((r) => r.id).sort()).toEqual([...back].sort());
        for (const r of cancelled) expect(r.outcome).toMatchObject({ status: 'failed', code: 'cancelled' });
        await second.submit(ids.map((id) => task(id)));
        const results = await collectAll(second, ids, timeout);
        expect(results.map((r) => r.id).sort()).toEqual(ids);
        for (const r of results) expect(r.outcome).toEqual({ status: 'completed', f1: probeF1(r.id) });
      });
    });

    it('closes idempotently and refuses work afterwards', async () => {
      const executor = await factory.create();
      await executor.submit([task('c1', 'hang')]);
      await executor.close();
      await executor.close();
      await expect(executor.submit([task('c2')])).rejects.toSatisfy(
        (err: unknown) => err instanceof EmonasError && err.code === 'conflict',
      );
    });
  });
}
