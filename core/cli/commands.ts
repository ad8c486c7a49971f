// Runs in: the emonas command's process. The table of subcommands; each lives in a file of its own.
import type { Command } from './command.ts';

export const commands: Command[] = [];
