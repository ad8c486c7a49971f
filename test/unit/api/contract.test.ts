import { describe, expect, it } from 'vitest';
import { EmonasError } from '../../../core/base/errors.ts';
import { eventNames, events } from '../../../core/api/events.ts';
import { methodNames, methods } from '../../../core/api/methods.ts';

describe('the contract tables', () => {
  it('names methods area.verb and events area.pastTense', () => {
    expect(methodNames.length).toBeGreaterThan(0);
    for (const name of methodNames) expect(name).toMatch(/^[a-z]+\.[a-z][A-Za-z]*$/);
    for (const name of eventNames) expect(name).toMatch(/^[a-z]+\.[a-z]+ed$/);
  });

  it('gives every method a summary sentence and an input schema that refuses a non-object', () => {
    for (const name of methodNames) {
      const spec = methods[name];
      expect(spec.summary).toMatch(/^[A-Z].*\.$/);
      expect(() => spec.input.parse('not an object', '')).toThrow(EmonasError);
    }
  });

  it('throttles only on a key the payload has, at a sane rate', () => {
    expect(eventNames.some((name) => (events[name] as { throttle?: unknown }).throttle)).toBe(true);
    for (const name of eventNames) {
      const spec = events[name] as { summary: string; throttle?: { perSecond: number; key: string } };
      expect(spec.summary).toMatch(/^[A-Z].*\.$/);
      if (spec.throttle) {
        expect(spec.throttle.perSecond).toBeGreaterThan(0);
        expect(spec.throttle.perSecond).toBeLessThanOrEqual(30);
      }
    }
  });

  it('refuses library names that could escape the data folder', () => {
    const input = methods['dataset.remove'].input;
    for (const name of ['../x', 'a/b', '..', '.hidden', 'a\\b', ' x', 'x ', '', 'é']) {
      expect(() => input.parse({ name }, ''), name).toThrow(EmonasError);
    }
    for (const name of ['Hippocampus', 'task04 v2', 'a', 'A-b_c.1']) {
      expect(input.parse({ name }, '')).toEqual({ name });
    }
  });
});
