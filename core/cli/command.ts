// Runs in: the emonas command's process. What every subcommand is, and the helpers they share.
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { protocolProblem, type TrainingProtocol } from '../base/training-protocol.ts';
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

const NUMBER_KINDS = {
  number: { what: 'a number', ok: (n: number) => Number.isFinite(n) },
  positive: { what: 'a positive number', ok: (n: number) => Number.isFinite(n) && n > 0 },
  count: { what: 'a whole number of at least 1', ok: (n: number) => Number.isInteger(n) && n >= 1 },
} as const;

/** A numeric flag's value, undefined when the flag is absent; anything else is a usage error naming it. */
export function numberOption(
  command: string,
  text: string | undefined,
  flag: string,
  kind: keyof typeof NUMBER_KINDS = 'number',
): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (text.trim() === '' || !NUMBER_KINDS[kind].ok(n)) {
    throw new EmonasError(
      'bad_request',
      `emonas ${command}: ${flag} takes ${NUMBER_KINDS[kind].what}, not "${text}"`,
    );
  }
  return n;
}

/** Three positive whole numbers written X,Y,Z, such as a patch in voxels. */
export function tripleOption(command: string, text: string, flag: string): [number, number, number] {
  const parts = text.split(',').map((p) => Number(p.trim()));
  if (parts.length !== 3 || parts.some((n) => !Number.isInteger(n) || n <= 0)) {
    throw new EmonasError(
      'bad_request',
      `emonas ${command}: ${flag} takes three positive whole numbers like 48,64,48, not "${text}"`,
    );
  }
  return parts as [number, number, number];
}

/** `--protocol`'s value, undefined when the flag is absent; anything else is a usage error naming it. */
export function protocolOption(command: string, text: string | undefined): TrainingProtocol | undefined {
  if (text === undefined) return undefined;
  const problem = protocolProblem(text, `emonas ${command}: --protocol`);
  if (problem) throw new EmonasError('bad_request', problem);
  return text as TrainingProtocol;
}

/**
 * The --help lines of `--protocol` for a command that trains, its descriptions starting at `column`;
 * `extra` (already wrapped) follows them.
 */
export function protocolHelp(column: number, extra: string[] = []): string {
  const lines = [
    "emonas (default) or reference: the authors' training (method.md sections 5, 6.3):",
    "uniform random 16-slice slabs (the plan's in-plane size; 128 x 128 x 16 on",
    'PROMISE12) with rotation +-90 degrees, shifts of 40 %, zoom 0.5-1.5 and a',
    "left-right flip, validation as a batch Dice over the validation volumes' slabs,",
    'He-uniform up-convolutions and head, predictions by slab windows with every',
    "label's largest component kept; on PROMISE12 the reference's preprocessing (1 x 1 x",
    '1.5 mm, centre crop 128 x 128 x 64, per-slice clipping) and fixed 10-case validation split',
    ...extra,
  ];
  const flag = '  --protocol P';
  return lines.map((l, i) => (i === 0 ? flag.padEnd(column) : ' '.repeat(column)) + l).join('\n');
}
