import { describe, expect, it } from 'vitest';
import type { EventName } from '../../../core/api/events.ts';
import { EventThrottle, type Clock } from '../../../core/api/throttle.ts';

class FakeClock implements Clock {
  time = 0;
  private timers: { at: number; run: () => void; id: number }[] = [];
  private nextId = 1;
  now() {
    return this.time;
  }
  setTimeout(run: () => void, ms: number) {
    const id = this.nextId++;
    this.timers.push({ at: this.time + ms, run, id });
    return id;
  }
  clearTimeout(handle: unknown) {
    this.timers = this.timers.filter((t) => t.id !== handle);
  }
  advance(ms: number) {
    const end = this.time + ms;
    for (;;) {
      const due = this.timers.filter((t) => t.at <= end).sort((a, b) => a.at - b.at)[0];
      if (!due) break;
      this.timers = this.timers.filter((t) => t !== due);
      this.time = due.at;
      due.run();
    }
    this.time = end;
  }
}

function setup() {
  const clock = new FakeClock();
  const sent: { name: EventName; payload: unknown; at: number }[] = [];
  const throttle = new EventThrottle((name, payload) => sent.push({ name, payload, at: clock.time }), clock);
  return { clock, sent, throttle };
}

const progress = (folder: string, done: number) => ({ folder, done, total: 100 });

describe('EventThrottle', () => {
  it('sends at most 4 progress events a second per folder, the latest winning, and never drops the last', () => {
    const { clock, sent, throttle } = setup();
    for (let done = 1; done <= 100; done++) {
      throttle.push('inspection.progressed', progress('/a', done));
      clock.advance(10);
    }
    clock.advance(1000);
    const times = sent.map((s) => s.at);
    expect(times.length).toBeGreaterThan(1);
    for (let i = 1; i < times.length; i++) expect(times[i]! - times[i - 1]!).toBeGreaterThanOrEqual(250);
    expect(sent.length).toBeLessThanOrEqual(6);
    expect(sent[0]?.payload).toEqual(progress('/a', 1));
    expect(sent.at(-1)?.payload).toEqual(progress('/a', 100));
    const dones = sent.map((s) => (s.payload as { done: number }).done);
    expect(dones).toEqual([...dones].sort((a, b) => a - b));
  });

  it('throttles each key on its own', () => {
    const { sent, throttle } = setup();
    throttle.push('inspection.progressed', progress('/a', 1));
    throttle.push('inspection.progressed', progress('/b', 1));
    expect(sent.map((s) => (s.payload as { folder: string }).folder)).toEqual(['/a', '/b']);
  });

  it('flushes held events before an unthrottled one, so order is kept', () => {
    const { clock, sent, throttle } = setup();
    throttle.push('inspection.progressed', progress('/a', 1));
    throttle.push('inspection.progressed', progress('/a', 2));
    throttle.push('dataset.removed', { name: 'x' });
    expect(sent.map((s) => s.name)).toEqual([
      'inspection.progressed',
      'inspection.progressed',
      'dataset.removed',
    ]);
    expect(sent[1]?.payload).toEqual(progress('/a', 2));
    clock.advance(2000);
    expect(sent).toHaveLength(3);
  });

  it('passes unthrottled events straight through', () => {
    const { sent, throttle } = setup();
    for (let i = 0; i < 10; i++) throttle.push('dataset.removed', { name: String(i) });
    expect(sent).toHaveLength(10);
  });
});
