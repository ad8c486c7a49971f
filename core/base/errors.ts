// Runs in: any process. Errors that cross the API boundary as data: a code a program can act on,
// a sentence a researcher can act on, and the file it concerns when there is one.

export type ErrorCode =
  | 'bad_request'
  | 'not_found'
  | 'unreadable_file'
  | 'unsupported_format'
  | 'invalid_dataset'
  | 'geometry_mismatch'
  | 'invalid_genome'
  | 'out_of_memory'
  | 'diverged'
  | 'worker_crashed'
  | 'cancelled'
  | 'disk_full'
  | 'backend_unavailable'
  | 'conflict'
  | 'internal';

export interface ErrorData {
  code: ErrorCode;
  message: string;
  file?: string;
  details?: unknown;
}

export class EmonasError extends Error {
  readonly code: ErrorCode;
  readonly file: string | undefined;
  readonly details: unknown;

  constructor(
    code: ErrorCode,
    message: string,
    options: { file?: string; details?: unknown; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'EmonasError';
    this.code = code;
    this.file = options.file;
    this.details = options.details;
  }

  toData(): ErrorData {
    const data: ErrorData = { code: this.code, message: this.message };
    if (this.file !== undefined) data.file = this.file;
    if (this.details !== undefined) data.details = this.details;
    return data;
  }
}

/** Turns anything thrown into error data; unexpected errors keep only their message. */
export function toErrorData(err: unknown): ErrorData {
  if (err instanceof EmonasError) return err.toData();
  const nodeCode = (err as { code?: unknown } | null)?.code;
  const message = err instanceof Error ? err.message : String(err);
  if (nodeCode === 'ENOSPC') return { code: 'disk_full', message: `The disk is full: ${message}` };
  if (nodeCode === 'ENOENT') return { code: 'not_found', message };
  return { code: 'internal', message };
}
