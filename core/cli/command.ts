// Runs in: the emonas command's process. What every subcommand is, and the helpers they share.
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { EmonasError, toErrorData } from '../base/errors.ts';

export interface Command {
  name: string;
  /** One line for `emonas --help`. */
  summary: string;
  /** Full usage text for `emonas <name> --help`. */
  usage: string;
  run(argv: string[]): Promise<number>;
}

export type Options = NonNullable<ParseArgsConfig['options']>;

/** Parses argv strictly; an unknown flag is a usage error with the command's name in it. */
export function parse<O extends Options>(
  command: string,
  argv: string[],
  options: O,
  allowPositionals = true,
) {
  try {
    return parseArgs({ args: argv, options, allowPositionals, strict: true });
  } catch (err) {
    throw new EmonasError('bad_request', `emonas ${command}: ${(err as Error).message}`);
  }
}

export function printJson(value: unknown): void {
  process.stdout.write(JSON.stringify(value, null, 2) + '\n');
}

/** One-line reason on stderr, the way every command fails. */
export function reportFailure(err: unknown): number {
  const data = toErrorData(err);
  // Messages usually name the file already; add the full path only where they do not carry it.
  const where = data.file && !data.message.includes(data.file) ? ` (${data.file})` : '';
  process.stderr.write(`emonas: ${data.message}${where}\n`);
  return data.code === 'bad_request' ? 2 : 1;
}

export function requireOption(command: string, value: string | undefined, flag: string): string {
  if (value === undefined || value === '') {
    throw new EmonasError(
      'bad_request',
      `emonas ${command}: ${flag} is required (see emonas ${command} --help)`,
    );
  }
  return value;
}
