// Runs in: the emonas command's process. `emonas export`: a trained model folder as a PyTorch module, an
// ONNX model or the TensorFlow.js files, for use outside Emonas Studio.
import { resolve } from 'node:path';
import { MODEL_EXPORT_FORMATS, type ModelExportFormat } from '../api/review.ts';
import { EmonasError } from '../base/errors.ts';
import { parse, printJson, requireOption, type Command } from './command.ts';

const usage = `Usage: emonas export --model <dir> --format onnx|pytorch|tfjs --out <folder> [--overwrite] [--json]

Writes a trained network into <folder> for use elsewhere; existing files are kept unless --overwrite.

Formats:
  pytorch   model.py (a torch.nn.Module built from the genome; needs torch only), weights.safetensors,
            and README.md with the preprocessing the network expects and how to load it
  onnx      model.onnx (opset 17; input "image", outputs "logits" and "probabilities"; the preprocessing
            notes in its metadata) and the same README.md
  tfjs      the TensorFlow.js files as trained (model.json, weights.bin), emonas-model.json, genome.json

Options:
  --model <dir>     a model folder: the --out folder of emonas train, a search candidate's folder
                    (<run>/candidates/<id>) or a run's final model (<run>/final)
  --format <name>   onnx, pytorch or tfjs
  --out <folder>    where the files go (created if missing)
  --overwrite       replace files of the same names already in <folder>
  --json            print { folder, files }`;

function formatOf(text: string): ModelExportFormat {
  if (!(MODEL_EXPORT_FORMATS as readonly string[]).includes(text)) {
    throw new EmonasError(
      'bad_request',
      `emonas export: --format takes ${MODEL_EXPORT_FORMATS.join(', ')}, not "${text}"`,
    );
  }
  return text as ModelExportFormat;
}

export const exportCommand: Command = {
  name: 'export',
  summary: 'write a trained network as a PyTorch module, an ONNX model or TensorFlow.js files',
  usage,
  async run(argv) {
    const { values, positionals } = parse(
      'export',
      argv,
      {
        model: { type: 'string' },
        format: { type: 'string' },
        out: { type: 'string' },
        overwrite: { type: 'boolean' },
        json: { type: 'boolean' },
      },
      false,
    );
    if (positionals.length > 0)
      throw new EmonasError('bad_request', 'emonas export takes no positional arguments');
    const model = resolve(requireOption('export', values.model, '--model'));
    const format = formatOf(requireOption('export', values.format, '--format'));
    const out = resolve(requireOption('export', values.out, '--out'));
    const { exportModelFolder } = await import('../service/export.ts');
    const result = await exportModelFolder(model, format, out, values.overwrite === true);
    if (values.json) printJson(result);
    else {
      process.stdout.write(
        `Wrote the ${format} export of ${model} to ${result.folder}: ${result.files.map((f) => f.slice(result.folder.length + 1)).join(', ')}.\n`,
      );
    }
    return 0;
  },
};
