// Runs in: the emonas command's process. `emonas doctor`: which training backend the engine uses and why
// each better one is unavailable, in words a user can act on.
import { EmonasError } from '../base/errors.ts';
import { doctor } from '../service/doctor.ts';
import { parse, printJson, type Command } from './command.ts';

const usage = `Usage: emonas doctor [--json]

Reports the training backend in use and every one considered, best first: TensorFlow with CUDA
(@tensorflow/tfjs-node-gpu), native TensorFlow on the CPU (@tensorflow/tfjs-node), the project's fast CPU
engine (emonas-cpu), TensorFlow.js's plain cpu backend; and why each unused one was skipped. Set
EMONAS_BACKEND to one of these names to force it.

Options:
  --json    print { backend, backends: [{ name, available, reason }], engine }`;

export const doctorCommand: Command = {
  name: 'doctor',
  summary: 'show the training backend in use and why the others are unavailable',
  usage,
  async run(argv) {
    const { values, positionals } = parse('doctor', argv, { json: { type: 'boolean' } }, false);
    if (positionals.length > 0) throw new EmonasError('bad_request', 'emonas doctor takes no arguments');
    const report = await doctor();
    if (values.json) {
      printJson(report);
      return 0;
    }
    const lines = [
      `Emonas Studio ${report.engine.version} on Node ${report.engine.node}, ${report.engine.platform}, ${report.engine.cpus} CPUs, ${report.engine.memoryGb} GB`,
      `Training backend: ${report.backend}`,
      '',
      ...report.backends.map((b) => {
        const mark = b.name === report.backend ? 'in use' : b.available ? 'usable' : 'unavailable';
        return `  ${b.name.padEnd(15)} ${mark}${b.reason ? `\n  ${' '.repeat(15)} ${b.reason}` : ''}`;
      }),
    ];
    process.stdout.write(lines.join('\n') + '\n');
    return 0;
  },
};
