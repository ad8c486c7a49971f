// Runs in: the engine (the emonas command's process today). Applies a trained model to new images: each
// image is put in the canonical orientation, preprocessed with the model's own plan, predicted whole or
// by sliding windows, and its label map mapped back through the resampling and the orientation onto the
// image's own grid, then written next to nothing else: same file name, same format, same geometry.
import { mkdir, readFile, readdir, stat } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { EmonasError } from '../base/errors.ts';
import { preprocessImage, restoreLabelMap } from '../datasets/pipeline/preprocess.ts';
import { fromCanonical, toCanonical } from '../io/orientation.ts';
import { IMAGE_EXTENSIONS, openVolume, writeVolume } from '../io/volume-files.ts';
import { loadModel } from '../nn/save-load.ts';
import { selectBackend } from '../train/backend.ts';
import { predictProbabilities } from '../train/inference.ts';
import { MODEL_CARD_FILE, readModelCard, type ModelCard } from '../train/model-card.ts';
import { inspectDataset } from './datasets.ts';

export interface PredictRequest {
  /** A folder written by `emonas train` (its --out). */
  model: string;
  /** An image file, or a folder whose image files are all predicted, or with `split` the dataset folder. */
  input: string;
  out: string;
  /** Predict only the cases of this side of the model's split.json, taken from the dataset folder `input`. */
  split?: 'train' | 'val' | 'test';
}

export interface PredictedFile {
  input: string;
  output: string;
  seconds: number;
}

export interface PredictResponse {
  model: string;
  backend: string;
  files: PredictedFile[];
}

export interface PredictHooks {
  onProgress?: (done: number, total: number, file: string) => void;
}

function isImageName(name: string): boolean {
  const lower = name.toLowerCase();
  // macOS AppleDouble companions ("._x.nii.gz") and hidden files match the extensions but are not images.
  if (name.startsWith('.')) return false;
  return IMAGE_EXTENSIONS.some((ext) => lower.endsWith(ext));
}

export async function listInputImages(input: string): Promise<string[]> {
  let info;
  try {
    info = await stat(input);
  } catch {
    throw new EmonasError('not_found', `The input ${input} does not exist.`, { file: input });
  }
  if (info.isFile()) {
    if (!isImageName(basename(input))) {
      throw new EmonasError(
        'unsupported_format',
        `${input} is not an image file this program reads (${IMAGE_EXTENSIONS.join(', ')}).`,
        { file: input },
      );
    }
    return [input];
  }
  const names = (await readdir(input)).filter(isImageName).sort();
  if (names.length === 0) {
    throw new EmonasError(
      'not_found',
      `The folder ${input} holds no image files (${IMAGE_EXTENSIONS.join(', ')}).`,
      {
        file: input,
      },
    );
  }
  return names.map((n) => join(input, n));
}

/** The images of one side of the split a model was trained with, from its dataset folder. */
export async function splitImages(
  modelDir: string,
  dataset: string,
  side: 'train' | 'val' | 'test',
): Promise<string[]> {
  const file = join(modelDir, 'split.json');
  let ids: unknown;
  try {
    ids = (JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>)[side];
  } catch {
    throw new EmonasError(
      'not_found',
      `${file} is missing or damaged, so the model's ${side} cases are unknown.`,
      { file },
    );
  }
  if (!Array.isArray(ids)) {
    throw new EmonasError('unreadable_file', `${file} has no list of ${side} cases.`, { file });
  }
  const wanted = new Set(ids as string[]);
  const report = await inspectDataset(dataset);
  const images = report.cases.filter((c) => wanted.has(c.id)).map((c) => c.image);
  if (images.length !== wanted.size) {
    throw new EmonasError(
      'invalid_dataset',
      `The dataset folder ${dataset} lacks ${wanted.size - images.length} of the ${wanted.size} ${side} cases in ${file}; give the folder the model was trained on.`,
      { file: dataset },
    );
  }
  return images.sort();
}

export async function predictFile(
  model: LayersModel,
  card: ModelCard,
  input: string,
  output: string,
): Promise<void> {
  const opened = await openVolume(input);
  if (opened.header.frames > 1) {
    throw new EmonasError(
      'unsupported_format',
      `${input} is a 4D series of ${opened.header.frames} frames; predict one 3D frame at a time.`,
      { file: input },
    );
  }
  const source = opened.readFrame(0);
  const { volume: canonical, transform } = toCanonical(source);
  const { plan } = card;
  const { grid, record } = preprocessImage(
    { data: canonical.data, shape: canonical.shape, spacing: canonical.spacing },
    plan,
  );
  const probabilities = await predictProbabilities(model, grid, {
    patch: plan.patch,
    divisor: 2 ** ((card.genome.cells - 1) / 2),
    head: plan.head,
    classes: plan.labels.length,
  });
  const labels = restoreLabelMap(probabilities, record, plan);
  const restored = fromCanonical({ ...canonical, data: labels.data, dataType: 'uint8' }, transform);
  await writeVolume(output, restored, opened.header, { dataType: 'uint8' });
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
  const card = await readModelCard(modelDir);
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
  const model = await loadModel(modelDir);
  await mkdir(out, { recursive: true });
  const files: PredictedFile[] = [];
  try {
    for (const input of inputs) {
      const started = Date.now();
      const output = join(out, basename(input));
      await predictFile(model, card, input, output);
      files.push({ input, output, seconds: (Date.now() - started) / 1000 });
      hooks.onProgress?.(files.length, inputs.length, input);
    }
  } finally {
    model.dispose();
  }
  return { model: modelDir, backend, files };
}
