// Runs in: the emonas command's process. `emonas apply`: a trained model applied to new scans without
// labels, with the volume of each predicted structure, through the same service function as the contract's
// scans.apply (a worker process predicts; existing files are kept unless --overwrite).
import { resolve } from 'node:path';
import { EmonasError } from '../base/errors.ts';
import { parse, printJson, requireOption, type Command } from './command.ts';
import { ProgressBar } from './progress.ts';

const usage = `Usage: emonas apply --model <dir> --input <file or folder> [--input ...] --out <folder>
                    [--overwrite] [--json]

Segments new scans (NIfTI .nii/.nii.gz or MetaImage .mhd/.mha) with a trained model and writes each label
map into <folder> under the scan's own name, format and geometry, post-processed with the model's stored
decision, and reports the volume in ml of every structure of every scan. A 4D series (an ACDC cine) is
segmented frame by frame into <name>_frame01, <name>_frame02, ... (1-based, as ACDC numbers its frames). A scan that cannot be predicted is
named with the reason and the others are still written. Unlike emonas predict, it never replaces an
existing file unless --overwrite.

Options:
  --model <dir>     a model folder: a run's final model (<run>/final), a candidate's folder
                    (<run>/candidates/<id>) or the --out folder of emonas train
  --input <path>    a scan or a folder of scans; repeat for more
  --out <folder>    where the label maps go (created when missing)
  --overwrite       replace label maps already in <folder>
  --json            print { modelDir, folder, scans: [{ input, output, volumesMl }], failures, postprocessing }`;

export const applyCommand: Command = {
  name: 'apply',
  summary: 'segment new scans with a trained model, with the volume of each structure',
  usage,
  async run(argv) {
    const { values, positionals } = parse(
      'apply',
      argv,
      {
        model: { type: 'string' },
        input: { type: 'string', multiple: true },
        out: { type: 'string' },
        overwrite: { type: 'boolean' },
        json: { type: 'boolean' },
      },
      false,
    );
    if (positionals.length > 0)
      throw new EmonasError('bad_request', 'emonas apply takes no positional arguments');
    const inputs = values.input ?? [];
    if (inputs.length === 0) {
      throw new EmonasError('bad_request', 'emonas apply: --input is required (see emonas apply --help)');
    }
    let bar: ProgressBar | undefined;
    const { applyToScans } = await import('../service/apply-scans.ts');
    const result = await applyToScans(
      {
        modelDir: requireOption('apply', values.model, '--model'),
        inputs: inputs.map((input) => resolve(input)),
        folder: resolve(requireOption('apply', values.out, '--out')),
        overwrite: values.overwrite === true,
      },
      {
        onProgress(done, total, file) {
          bar ??= new ProgressBar({ label: 'Predicting', total });
          if (done < total) bar.update(done, file);
          else bar.finish();
        },
      },
    );
    if (values.json) printJson(result);
    else {
      const lines = result.scans.map(
        (s) =>
          `${s.output}: ${Object.entries(s.volumesMl)
            .map(([name, ml]) => `${name} ${ml.toFixed(2)} ml`)
            .join(', ')}`,
      );
      process.stdout.write([...lines, result.postprocessing.summary].join('\n') + '\n');
    }
    for (const failure of result.failures) process.stderr.write(`emonas: ${failure.message}\n`);
    if (result.failures.length === 0) return 0;
    process.stderr.write(
      `emonas: ${result.failures.length} scan(s) could not be predicted (listed above); the others were written.\n`,
    );
    return 1;
  },
};
