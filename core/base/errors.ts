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
  | 'exists'
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

/** What each file-system error means, as the code a program acts on and the sentence about its path. */
const FILE_ERRORS: Record<string, { code: ErrorCode; says: (path: string) => string }> = {
  ENOENT: {
    code: 'not_found',
    says: (path) => `${path} does not exist (or a folder on the way to it does not).`,
  },
  ENOTDIR: {
    code: 'bad_request',
    says: (path) => `${path} is not a folder (it, or a part of the path before it, is a file).`,
  },
  EISDIR: { code: 'bad_request', says: (path) => `${path} is a folder, where a file was expected.` },
  EACCES: {
    code: 'unreadable_file',
    says: (path) => `Permission denied for ${path}: this user may not read or write it.`,
  },
  EPERM: {
    code: 'unreadable_file',
    says: (path) => `The operation on ${path} is not permitted for this user.`,
  },
  EROFS: {
    code: 'unreadable_file',
    says: (path) => `${path} is on a read-only disk, so it cannot be written.`,
  },
  EEXIST: { code: 'exists', says: (path) => `${path} already exists.` },
  ENOSPC: { code: 'disk_full', says: (path) => `The disk holding ${path} is full.` },
};

/**
 * A Node file-system error (ENOENT, ENOTDIR, EISDIR, EACCES, EPERM, EROFS, EEXIST, ENOSPC) as an
 * EmonasError whose sentence says what is wrong with which path; undefined for anything else.
 */
export function fileSystemError(err: unknown): EmonasError | undefined {
  if (err instanceof EmonasError || typeof err !== 'object' || err === null) return undefined;
  const { code, path, dest } = err as { code?: unknown; path?: unknown; dest?: unknown };
  const known = typeof code === 'string' ? FILE_ERRORS[code] : undefined;
  if (known === undefined) return undefined;
  // A copy or rename that fails on its destination names it in `dest`.
  const target =
    code === 'EEXIST' && typeof dest === 'string'
      ? dest
      : typeof path === 'string'
        ? path
        : typeof dest === 'string'
          ? dest
          : undefined;
  if (target === undefined) {
    const sentence = known.says('a file the engine used');
    return new EmonasError(known.code, sentence[0]?.toUpperCase() + sentence.slice(1), { cause: err });
  }
  return new EmonasError(known.code, known.says(target), { file: target, cause: err });
}

/** Turns anything thrown into error data; unexpected errors keep only their message. */
export function toErrorData(err: unknown): ErrorData {
  if (err instanceof EmonasError) return err.toData();
  const file = fileSystemError(err);
  if (file) return file.toData();
  const message = err instanceof Error ? err.message : String(err);
  return { code: 'internal', message };
}
