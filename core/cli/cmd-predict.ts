// Runs in: the emonas command's process. `emonas predict`: applies a trained model to new images and
// writes one label map per image, with the image's own file name, format and geometry, post-processed with
// the model's stored decision unless --no-postprocess.
import { EmonasError } from '../base/errors.ts';
import { parse, printJson, protocolOption, requireOption, type Command } from './command.ts';
import { ProgressBar } from './progress.ts';

const usage = `Usage: emonas predict --model <dir> --input <folder or file> --out <folder> [--split test]
                      [--no-postprocess] [--protocol P] [--json]

Segments new images with a model folder written by emonas train. Each image is preprocessed exactly as in
training (canonical orientation, resampling, z-score), predicted whole or by overlapping windows, and its
label map written to <folder> under the image's own file name, on the image's own grid (orientation,
spacing and size undone exactly), so it opens on top of the image in any viewer.

Post-processing: when training ended, the model folder stored, per label, whether keeping only the largest
connected component raised that label's mean Dice on the validation cases (as nnU-Net decides it). That
decision is applied to every label map unless --no-postprocess; the output says whether it was applied and
to which labels. A model folder trained before this decision existed stores none and predicts as before.

Options:
  --model <dir>     a model folder: the --out folder of emonas train, a search candidate's folder
                    (<run>/candidates/<id>) or a run's final model (<run>/final, after emonas finalize)
  --input <path>    one image (.nii, .nii.gz, .mhd, .mha) or a folder of them
  --out <folder>    where the label maps go (must not be the input folder)
  --split <side>    with --input the dataset folder the model was trained on: predict only its test
                    (or val, or train) cases as recorded in the model's split.json
  --no-postprocess  leave the network's label maps as they are (do not apply the stored decision)
  --protocol P      emonas or reference; default: the protocol the model was trained with (its
                    emonas-model.json). reference predicts as the authors' evaluation (method.md
                    section 6.3): windows of the training slab (128 x 128 x 16 on PROMISE12) at a
                    stride of the whole slab in-plane and one slice through-plane, 15 zero slices
                    padded at the front, overlapping outputs averaged, and every label's largest
                    face-connected component kept, whatever validation said. emonas predicts whole
                    volumes or Gaussian-weighted windows and applies the decision made on validation
  --json            print { model, backend, files: [{ input, output, seconds }],
                    failures: [{ input, message }], postprocessing: { applied, labels, summary } }

An image that cannot be predicted does not stop the others: every good image is written, each bad one is
named on stderr with the reason, and the exit status is then 1.`;

export const predictCommand: Command = {
  name: 'predict',
  summary: 'segment new images with a trained model, writing label maps on their own grids',
  usage,
  async run(argv) {
    const { values, positionals } = parse(
      'predict',
      argv,
      {
        model: { type: 'string' },
        input: { type: 'string' },
        out: { type: 'string' },
        split: { type: 'string' },
        'no-postprocess': { type: 'boolean' },
        protocol: { type: 'string' },
        json: { type: 'boolean' },
      },
      false,
    );
    if (positionals.length > 0)
      throw new EmonasError('bad_request', 'emonas predict takes no positional arguments');
    const split = values.split;
    if (split !== undefined && split !== 'train' && split !== 'val' && split !== 'test') {
      throw new EmonasError(
        'bad_request',
        `emonas predict: --split takes test, val or train, not "${split}"`,
      );
    }
    const protocol = protocolOption('predict', values.protocol);
    let bar: ProgressBar | undefined;
    // Loaded here, not at the top: tfjs takes seconds to import, which every other command would pay.
    const { predict } = await import('../service/predict.ts');
    const response = await predict(
      {
        model: requireOption('predict', values.model, '--model'),
        input: requireOption('predict', values.input, '--input'),
        out: requireOption('predict', values.out, '--out'),
        ...(split && { split }),
        postprocess: values['no-postprocess'] !== true,
        ...(protocol !== undefined && { protocol }),
      },
      {
        onProgress(done, total, file) {
          bar ??= new ProgressBar({ label: 'Predicting', total });
          if (done < total) bar.update(done, file);
          else bar.finish();
        },
      },
    );
    if (values.json) printJson(response);
    else {
      process.stdout.write(
        `Wrote ${response.files.length} label map${response.files.length === 1 ? '' : 's'} to ${values.out} (backend ${response.backend}).\n` +
          `${response.postprocessing.summary}\n`,
      );
    }
    for (const failure of response.failures) process.stderr.write(`emonas: ${failure.message}\n`);
    if (response.failures.length === 0) return 0;
    process.stderr.write(
      `emonas: ${response.failures.length} of ${response.files.length + response.failures.length} image(s) could not be predicted (listed above); the others were written.\n`,
    );
    return 1;
  },
};
