import { describe, expect, it } from 'vitest';
import { EmonasError } from '../../../core/base/errors.ts';
import {
  array,
  boolean,
  number,
  object,
  oneOf,
  optional,
  pattern,
  string,
} from '../../../core/api/schema.ts';

function failure(run: () => unknown): EmonasError {
  try {
    run();
  } catch (err) {
    if (err instanceof EmonasError) return err;
    throw err;
  }
  throw new Error('expected the parse to fail');
}

describe('schema', () => {
  const request = object({
    folder: string({ minLength: 1 }),
    copy: optional(boolean()),
    epochs: optional(number({ min: 1, max: 500, integer: true })),
    mode: optional(oneOf(['fast', 'full'] as const)),
    patch: optional(array(number({ min: 1 }), { maxItems: 3 })),
    nested: optional(object({ name: pattern(/^[a-z]+$/, 'lowercase letters') })),
  });

  it('parses a valid request and leaves absent optional fields out', () => {
    const parsed = request.parse({ folder: '/data', epochs: 3, patch: [1, 2], nested: { name: 'ab' } }, '');
    expect(parsed).toEqual({ folder: '/data', epochs: 3, patch: [1, 2], nested: { name: 'ab' } });
    expect('copy' in parsed).toBe(false);
  });

  it.each([
    [{}, 'folder', "'folder' must be text of 1 to"],
    [{ folder: '' }, 'folder', 'but it was empty text'],
    [{ folder: '/d', epochs: 2.5 }, 'epochs', 'a whole number from 1 to 500'],
    [{ folder: '/d', epochs: Number.NaN }, 'epochs', 'whole number'],
    [{ folder: '/d', copy: 'yes' }, 'copy', 'true or false'],
    [{ folder: '/d', mode: 'slow' }, 'mode', "one of 'fast', 'full'"],
    [{ folder: '/d', patch: [1, -1] }, 'patch[1]', 'at least 1'],
    [{ folder: '/d', patch: [1, 2, 3, 4] }, 'patch', 'at most 3 items'],
    [{ folder: '/d', nested: { name: 'A' } }, 'nested.name', 'lowercase letters'],
    [{ folder: '/d', extra: 1 }, 'extra', "field 'extra' that this method does not take"],
    [{ folder: '/d', nested: { name: 'a', x: 1 } }, 'nested.x', "'nested.x'"],
  ])('refuses %j naming the field %s', (input, field, phrase) => {
    const err = failure(() => request.parse(input, ''));
    expect(err.code).toBe('bad_request');
    expect(err.details).toEqual({ field });
    expect(err.message).toContain(phrase);
  });

  it.each([null, [], 'text', 3, Object.create({ folder: '/x' }) as object])(
    'refuses a non-object input %j',
    (input) => {
      const err = failure(() => request.parse(input, ''));
      expect(err.code).toBe('bad_request');
      expect(err.message).toMatch(/^The request input must be an object with the fields folder/);
    },
  );

  it('ignores inherited keys such as __proto__ tricks', () => {
    const input = JSON.parse('{"folder":"/d","__proto__":{"copy":true}}') as unknown;
    const err = failure(() => request.parse(input, ''));
    expect(err.details).toEqual({ field: '__proto__' });
  });
});
