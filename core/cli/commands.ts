// Runs in: the emonas command's process. The table of subcommands; each lives in a file of its own.
import type { Command } from './command.ts';
import { datasetCommand } from './cmd-dataset.ts';
import { evaluateCommand } from './cmd-evaluate.ts';

export const commands: Command[] = [datasetCommand, evaluateCommand];
