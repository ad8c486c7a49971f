// Runs in: any process. A small schema language for API inputs: every request is parsed from unknown data
// at the boundary, and a bad one fails with 'bad_request' naming the field, never with a crash deeper in.
import { EmonasError } from '../base/errors.ts';

export interface Schema<T> {
  /** Returns the parsed value or throws EmonasError('bad_request') naming `field`. */
  parse(value: unknown, field: string): T;
  /** What a valid value looks like, in words, for error messages and the contract listing. */
  readonly expected: string;
}

export type Infer<S> = S extends Schema<infer T> ? T : never;

/** A schema whose field may be left out: object() leaves the key absent rather than undefined. */
export interface OptionalSchema<T> extends Schema<T | undefined> {
  readonly optional: true;
}

function reject(field: string, expected: string, value: unknown): never {
  const subject = field === '' ? 'The request input' : `The request field '${field}'`;
  throw new EmonasError(
    'bad_request',
    `${subject} must be ${expected}, but it was ${describeValue(value)}.`,
    {
      details: { field },
    },
  );
}

function describeValue(value: unknown): string {
  if (value === undefined) return 'missing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'string') return value.length === 0 ? 'empty text' : 'text';
  if (typeof value === 'object') return 'an object';
  return `a ${typeof value}`;
}

export function string(options: { minLength?: number; maxLength?: number } = {}): Schema<string> {
  const min = options.minLength ?? 0;
  const max = options.maxLength ?? 100_000;
  const expected = min > 0 ? `text of ${min} to ${max} characters` : `text of at most ${max} characters`;
  return {
    expected,
    parse(value, field) {
      if (typeof value !== 'string' || value.length < min || value.length > max)
        reject(field, expected, value);
      return value;
    },
  };
}

/** Text that matches a pattern, e.g. names that become file names. */
export function pattern(regex: RegExp, expected: string): Schema<string> {
  return {
    expected,
    parse(value, field) {
      if (typeof value !== 'string' || !regex.test(value)) reject(field, expected, value);
      return value;
    },
  };
}

export function number(options: { min?: number; max?: number; integer?: boolean } = {}): Schema<number> {
  const min = options.min ?? -Number.MAX_VALUE;
  const max = options.max ?? Number.MAX_VALUE;
  const kind = options.integer ? 'a whole number' : 'a number';
  const range =
    options.min !== undefined && options.max !== undefined
      ? ` from ${min} to ${max}`
      : options.min !== undefined
        ? ` of at least ${min}`
        : options.max !== undefined
          ? ` of at most ${max}`
          : '';
  const expected = kind + range;
  return {
    expected,
    parse(value, field) {
      if (
        typeof value !== 'number' ||
        !Number.isFinite(value) ||
        value < min ||
        value > max ||
        (options.integer === true && !Number.isInteger(value))
      ) {
        reject(field, expected, value);
      }
      return value;
    },
  };
}

export function boolean(): Schema<boolean> {
  const expected = 'true or false';
  return {
    expected,
    parse(value, field) {
      if (typeof value !== 'boolean') reject(field, expected, value);
      return value;
    },
  };
}

export function oneOf<const T extends readonly string[]>(values: T): Schema<T[number]> {
  const expected = `one of ${values.map((v) => `'${v}'`).join(', ')}`;
  return {
    expected,
    parse(value, field) {
      if (typeof value !== 'string' || !values.includes(value)) reject(field, expected, value);
      return value as T[number];
    },
  };
}

export function array<T>(item: Schema<T>, options: { maxItems?: number } = {}): Schema<T[]> {
  const max = options.maxItems ?? 10_000;
  const expected = `a list of at most ${max} items, each ${item.expected}`;
  return {
    expected,
    parse(value, field) {
      if (!Array.isArray(value) || value.length > max) reject(field, expected, value);
      return value.map((v, i) => item.parse(v, `${field}[${i}]`));
    },
  };
}

export function optional<T>(inner: Schema<T>): OptionalSchema<T> {
  return {
    optional: true,
    expected: `${inner.expected} (optional)`,
    parse(value, field) {
      return value === undefined ? undefined : inner.parse(value, field);
    },
  };
}

type Shape = Record<string, Schema<unknown>>;
type OptionalKeys<S extends Shape> = {
  [K in keyof S]: S[K] extends OptionalSchema<unknown> ? K : never;
}[keyof S];
type RequiredKeys<S extends Shape> = Exclude<keyof S, OptionalKeys<S>>;
type ObjectOf<S extends Shape> = { [K in RequiredKeys<S>]: Infer<S[K]> } & {
  [K in OptionalKeys<S>]?: Exclude<Infer<S[K]>, undefined>;
};
type Flatten<T> = { [K in keyof T]: T[K] };

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

/**
 * A plain object with exactly these fields. Unknown fields are refused rather than ignored, so a client
 * that misspells an option learns so instead of silently getting the default.
 */
export function object<S extends Shape>(shape: S): Schema<Flatten<ObjectOf<S>>> {
  const keys = Object.keys(shape);
  const expected = keys.length === 0 ? 'an empty object' : `an object with the fields ${keys.join(', ')}`;
  return {
    expected,
    parse(value, field) {
      if (!isPlainObject(value)) reject(field, expected, value);
      for (const key of Object.keys(value)) {
        if (!Object.hasOwn(shape, key)) {
          const where = field === '' ? `'${key}'` : `'${field}.${key}'`;
          throw new EmonasError(
            'bad_request',
            `The request has a field ${where} that this method does not take; expected ${expected}.`,
            { details: { field: field === '' ? key : `${field}.${key}` } },
          );
        }
      }
      const out: Record<string, unknown> = {};
      for (const key of keys) {
        const schema = shape[key] as Schema<unknown>;
        const parsed = schema.parse(value[key], field === '' ? key : `${field}.${key}`);
        if (parsed !== undefined) out[key] = parsed;
      }
      return out as Flatten<ObjectOf<S>>;
    },
  };
}

/** A JSON object field refused for its size or depth: `what` says which, with the limit. */
function tooLarge(field: string, what: string): never {
  const subject = field === '' ? 'The request input' : `The request field '${field}'`;
  throw new EmonasError('bad_request', `${subject} ${what}.`, { details: { field } });
}

/**
 * A plain JSON object whose fields the receiving service checks itself (e.g. a search configuration, which
 * core/search validates setting by setting); here only its shape and size are checked.
 */
export function jsonObject(options: { maxBytes?: number } = {}): Schema<Record<string, unknown>> {
  const max = options.maxBytes ?? 100_000;
  const expected = `an object of plain JSON data (at most ${max} bytes)`;
  return {
    expected,
    parse(value, field) {
      if (!isPlainObject(value)) reject(field, expected, value);
      let text: string | undefined;
      try {
        text = JSON.stringify(value);
      } catch {
        tooLarge(field, 'is nested too deeply (or refers to itself) to be written as JSON');
      }
      if (text === undefined) reject(field, expected, value);
      const bytes = new TextEncoder().encode(text).length;
      if (bytes > max) tooLarge(field, `is ${bytes} bytes of JSON; the limit is ${max} bytes`);
      return JSON.parse(text) as Record<string, unknown>;
    },
  };
}
