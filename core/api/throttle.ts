// Runs in: the engine (and any process that relays events). Applies the events table's rate limits: a
// throttled event is sent at once when its key has been quiet long enough, otherwise only the latest one is
// held and sent when the interval ends. Any unthrottled event first flushes what is held, so clients always
// see, say, the last epoch of a candidate before that candidate's completion.
import { events, type EventName } from './events.ts';

export interface Clock {
  now(): number;
  setTimeout(run: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

const realClock: Clock = {
  now: () => Date.now(),
  setTimeout: (run, ms) => setTimeout(run, ms),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

interface Slot {
  name: EventName;
  lastSent: number;
  pending?: unknown;
  timer?: unknown;
}

export class EventThrottle {
  private readonly slots = new Map<string, Slot>();

  constructor(
    private readonly emit: (name: EventName, payload: unknown) => void,
    private readonly clock: Clock = realClock,
  ) {}

  push(name: EventName, payload: unknown): void {
    const throttle = (events[name] as { throttle?: { perSecond: number; key: string } }).throttle;
    if (!throttle) {
      this.flush();
      this.emit(name, payload);
      return;
    }
    const keyValue = (payload as Record<string, unknown> | null)?.[throttle.key];
    const slotKey = `${name}\u0000${String(keyValue)}`;
    const interval = 1000 / throttle.perSecond;
    const now = this.clock.now();
    const slot = this.slots.get(slotKey);
    if (!slot || (slot.timer === undefined && now - slot.lastSent >= interval)) {
      this.slots.set(slotKey, { name, lastSent: now });
      this.emit(name, payload);
      return;
    }
    slot.pending = payload;
    if (slot.timer === undefined) {
      slot.timer = this.clock.setTimeout(() => this.release(slotKey), slot.lastSent + interval - now);
    }
  }

  /** Sends everything held now (before an unthrottled event, and when the engine closes). */
  flush(): void {
    for (const key of [...this.slots.keys()]) {
      const slot = this.slots.get(key);
      if (slot?.timer !== undefined) {
        this.clock.clearTimeout(slot.timer);
        this.release(key);
      }
    }
  }

  private release(slotKey: string): void {
    const slot = this.slots.get(slotKey);
    if (!slot) return;
    const payload = slot.pending;
    slot.timer = undefined;
    slot.pending = undefined;
    slot.lastSent = this.clock.now();
    this.emit(slot.name, payload);
  }
}
