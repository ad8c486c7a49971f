// Runs in: any process. The result envelope every API method answers with, on every transport.
import { toErrorData, type ErrorData } from '../base/errors.ts';

/** Re-exported so clients, which import core/api only, can read error envelopes. */
export type { ErrorCode, ErrorData } from '../base/errors.ts';

export type Result<T> = { ok: true; value: T } | { ok: false; error: ErrorData };

export function ok<T>(value: T): Result<T> {
  return { ok: true, value };
}

export function fail(error: ErrorData): Result<never> {
  return { ok: false, error };
}

/** Runs a handler and turns whatever it throws into an error envelope (stack traces stay in the log). */
export async function settle<T>(run: () => Promise<T> | T): Promise<Result<T>> {
  try {
    return ok(await run());
  } catch (err) {
    return fail(toErrorData(err));
  }
}
