// Runs in: the engine (the emonas command's process today). `emonas predict`: a trained model applied to new
// images (core/train/predict), each written under its own name in the output folder, with the model
// folder's stored post-processing decision unless the request turns it off. A search's folders that are
// not model folders are refused with the folder to use instead.
import { mkdir, readFile, stat } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import type { PostprocessingStatus } from '../api/review.ts';
import { EmonasError, toErrorData } from '../base/errors.ts';
import type { TrainingProtocol } from '../base/training-protocol.ts';
import { loadModel } from '../nn/save-load.ts';
import { selectBackend } from '../train/backend.ts';
import { MODEL_CARD_FILE, readModelCard } from '../train/model-card.ts';
import { listInputImages, splitImages } from '../train/predict/input-images.ts';
import { predictFile } from '../train/predict/predict-file.ts';
import { cardForProtocol } from '../train/predict/prediction-protocol.ts';
import { postprocessingStatus } from './postprocessing-status.ts';

export interface PredictRequest {
  /** A folder written by `emonas train` (its --out). */
  model: string;
  /** An image file, or a folder whose image files are all predicted, or with `split` the dataset folder. */
  input: string;
  out: string;
  /** Predict only the cases of this side of the model's split.json, taken from the dataset folder `input`. */
  split?: 'train' | 'val' | 'test';
  /** Apply the model folder's stored post-processing decision (default true). */
  postprocess?: boolean;
  /** Predict as this protocol does (core/train/predict/prediction-protocol.ts); default: the model's. */
  protocol?: TrainingProtocol;
}

export interface PredictedFile {
  input: string;
  output: string;
  seconds: number;
}

/** An input that could not be predicted, and why in words; the others are predicted all the same. */
export interface PredictFailure {
  input: string;
  message: string;
}

export interface PredictResponse {
  model: string;
  backend: string;
  files: PredictedFile[];
  failures: PredictFailure[];
  postprocessing: PostprocessingStatus;
}

export interface PredictHooks {
  onProgress?: (done: number, total: number, file: string) => void;
}

/**
 * A search's folders that are not model folders themselves get a sentence saying which folder to use: a
 * run folder (its final/ or a candidate's folder) and a candidate that has no weights (failed or not
 * trained yet).
 */
async function checkSearchFolder(modelDir: string): Promise<void> {
  const exists = async (name: string): Promise<boolean> =>
    stat(join(modelDir, name)).then(
      () => true,
      () => false,
    );
  if (await exists(MODEL_CARD_FILE)) return;
  if (await exists('run.json')) {
    throw new EmonasError(
      'bad_request',
      `${modelDir} is a search run, not a model: use its final model (--model ${join(modelDir, 'final')}, after emonas finalize) or a candidate's folder (--model ${join(modelDir, 'candidates', '<id>')}, see emonas front).`,
      { file: modelDir },
    );
  }
  if (await exists('candidate.json')) {
    const record = JSON.parse(await readFile(join(modelDir, 'candidate.json'), 'utf8')) as {
      outcome?: { status?: string; reason?: string };
    };
    const why =
      record.outcome?.status === 'failed'
        ? `its training failed (${record.outcome.reason ?? 'no reason recorded'})`
        : 'its training kept no weights';
    throw new EmonasError(
      'not_found',
      `The candidate in ${modelDir} has no trained model: ${why}. Choose another candidate (see emonas front).`,
      { file: modelDir },
    );
  }
}

export async function predict(request: PredictRequest, hooks: PredictHooks = {}): Promise<PredictResponse> {
  const modelDir = resolve(request.model);
  await checkSearchFolder(modelDir);
  const card = cardForProtocol(await readModelCard(modelDir), request.protocol);
  const inputs = request.split
    ? await splitImages(modelDir, resolve(request.input), request.split)
    : await listInputImages(resolve(request.input));
  const out = resolve(request.out);
  if (inputs.some((file) => resolve(file, '..') === out)) {
    throw new EmonasError(
      'bad_request',
      `The output folder ${out} is the input folder: predictions take the images' own file names and would overwrite them. Choose another --out.`,
    );
  }
  const only = process.env.EMONAS_BACKEND;
  const { backend } = await selectBackend(only ? { only } : {});
  const postprocessing = postprocessingStatus(card, request.postprocess ?? true);
  const decision = postprocessing.applied ? card.postprocessing : undefined;
  const model = await loadModel(modelDir);
  await mkdir(out, { recursive: true });
  const files: PredictedFile[] = [];
  const failures: PredictFailure[] = [];
  try {
    for (const input of inputs) {
      const started = Date.now();
      const output = join(out, basename(input));
      // One bad image is that image's problem: the others are still predicted and written.
      try {
        await predictFile(model, card, input, output, decision);
        files.push({ input, output, seconds: (Date.now() - started) / 1000 });
      } catch (err) {
        const { message } = toErrorData(err);
        failures.push({ input, message: message.includes(input) ? message : `${input}: ${message}` });
      }
      hooks.onProgress?.(files.length + failures.length, inputs.length, input);
    }
  } finally {
    model.dispose();
  }
  return { model: modelDir, backend, files, failures, postprocessing };
}
