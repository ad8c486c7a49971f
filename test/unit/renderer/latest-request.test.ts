// The latest of overlapping requests (a case or a scan picked while another is still being read): an answer
// that arrives after a later pick is dropped, whether it succeeded or failed, and only the latest answer
// sets the value, the error and the end of loading.
import { describe, expect, it } from 'vitest';
import { fail, ok, type Result } from '../../../core/api/envelope.ts';
import { LatestRequest } from '../../../renderer/src/state/latest-request.svelte.ts';

interface Volume {
  name: string;
}

/** A request the test answers when it chooses, to make answers arrive out of order. */
function pending(): { promise: Promise<Result<Volume>>; answer: (result: Result<Volume>) => void } {
  let answer!: (result: Result<Volume>) => void;
  const promise = new Promise<Result<Volume>>((resolve) => (answer = resolve));
  return { promise, answer };
}

describe('LatestRequest', () => {
  it('drops an answer that arrives after a later request, and keeps the later one', async () => {
    const request = new LatestRequest();
    const slow = pending();
    const fast = pending();
    const first = request.load('a', () => slow.promise);
    expect(request.key).toBe('a');
    expect(request.loading).toBe(true);
    const second = request.load('b', () => fast.promise);

    fast.answer(ok({ name: 'B' }));
    expect(await second).toEqual({ name: 'B' });
    expect(request.loading).toBe(false);

    slow.answer(fail({ code: 'not_found', message: 'a.nii.gz is gone' }));
    expect(await first).toBeNull();
    expect(request.key).toBe('b');
    expect(request.error).toBeNull();
  });

  it('drops a stale success while the later request is still loading', async () => {
    const request = new LatestRequest();
    const slow = pending();
    const later = pending();
    const first = request.load('a', () => slow.promise);
    const second = request.load('b', () => later.promise);

    slow.answer(ok({ name: 'A' }));
    expect(await first).toBeNull();
    expect(request.loading).toBe(true);

    later.answer(ok({ name: 'B' }));
    expect(await second).toEqual({ name: 'B' });
    expect(request.loading).toBe(false);
  });

  it("keeps the engine's error, and clears it when the next request succeeds", async () => {
    const request = new LatestRequest();
    const error = { code: 'not_found', message: 'a.nii.gz is gone' } as const;
    expect(await request.load('a', async () => fail(error))).toBeNull();
    expect(request.error).toEqual(error);
    expect(request.loading).toBe(false);

    expect(await request.load('b', async () => ok({ name: 'B' }))).toEqual({ name: 'B' });
    expect(request.error).toBeNull();
  });

  it('forgets a pick cleared while its answer is on the way: not loading, and the answer is dropped', async () => {
    const request = new LatestRequest();
    const slow = pending();
    const first = request.load('a', () => slow.promise);
    expect(request.loading).toBe(true);
    request.clear();
    expect(request.loading).toBe(false);
    expect(request.key).toBeNull();

    slow.answer(fail({ code: 'not_found', message: 'a.nii.gz is gone' }));
    expect(await first).toBeNull();
    expect(request.loading).toBe(false);
    expect(request.error).toBeNull();
  });

  it('drops a slow answer for a key picked again since: only the latest request counts', async () => {
    const request = new LatestRequest();
    const slow = pending();
    const first = request.load('a', () => slow.promise);
    await request.load('b', async () => ok({ name: 'B' }));
    const latest = request.load('a', async () => ok({ name: 'A again' }));
    expect(await latest).toEqual({ name: 'A again' });
    slow.answer(fail({ code: 'not_found', message: 'a.nii.gz is gone' }));
    expect(await first).toBeNull();
    expect(request.error).toBeNull();
  });
});
