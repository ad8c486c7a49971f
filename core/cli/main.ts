// Runs in: the emonas command's process. Dispatches to a subcommand; every subcommand calls core/service.
import { commands } from './commands.ts';
import { reportFailure } from './command.ts';

function help(): string {
  const width = Math.max(...commands.map((c) => c.name.length), 8);
  const lines = commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`);
  return [
    'emonas: the Emonas Studio engine (EMONAS-Net multi-objective architecture search for 3D segmentation)',
    '',
    'Usage: emonas <command> [options]    emonas <command> --help',
    '',
    'Commands:',
    ...lines,
    '',
  ].join('\n');
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(help());
    return 0;
  }
  const command = commands.find((c) => c.name === name);
  if (!command) {
    process.stderr.write(`emonas: unknown command '${name}'. Run 'emonas --help' for the list.\n`);
    return 2;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    process.stdout.write(command.usage.endsWith('\n') ? command.usage : command.usage + '\n');
    return 0;
  }
  try {
    return await command.run(rest);
  } catch (err) {
    return reportFailure(err);
  }
}
