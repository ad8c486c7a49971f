// Runs in: any process that stores or restores a trained network (a training worker, the engine). Saves a
// tf.LayersModel as a folder in the standard tfjs layers format (model.json + weights.bin) without
// tfjs-node's file:// handler, and loads it back with the custom layers and gradients registered.

import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { io } from '@tensorflow/tfjs-core';
import { loadLayersModel } from '@tensorflow/tfjs-layers';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { writeFileAtomic } from '../io/files.ts';
import { EmonasError } from '../base/errors.ts';
import './channel-replicate.ts';
import './conv3d-transpose-grad.ts';
import './instance-norm.ts';

export const MODEL_FILE = 'model.json';
export const WEIGHTS_FILE = 'weights.bin';

/** Writes dir/weights.bin, then dir/model.json, each through a temporary name so a crash leaves no half file. */
export async function saveModel(model: LayersModel, dir: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  await model.save(
    io.withSaveHandler(async (artifacts) => {
      const weights = new Uint8Array(io.CompositeArrayBuffer.join(artifacts.weightData));
      const modelJson: io.ModelJSON = {
        modelTopology: artifacts.modelTopology ?? {},
        format: artifacts.format ?? 'layers-model',
        generatedBy: artifacts.generatedBy ?? 'TensorFlow.js',
        convertedBy: null,
        weightsManifest: [{ paths: [WEIGHTS_FILE], weights: artifacts.weightSpecs ?? [] }],
      };
      await writeFileAtomic(join(dir, WEIGHTS_FILE), weights);
      await writeFileAtomic(join(dir, MODEL_FILE), JSON.stringify(modelJson));
      return { modelArtifactsInfo: io.getModelArtifactsInfoForJSON(artifacts) };
    }),
  );
}

export async function loadModel(dir: string): Promise<LayersModel> {
  const modelPath = join(dir, MODEL_FILE);
  const modelJson = parseModelJson(await readOrThrow(modelPath, 'the network description'), modelPath);
  const weightSpecs = modelJson.weightsManifest.flatMap((group) => group.weights);
  const parts: Uint8Array[] = [];
  for (const group of modelJson.weightsManifest) {
    for (const path of group.paths) parts.push(await readOrThrow(join(dir, path), 'the network weights'));
  }
  const weightData = concat(parts);
  const expected = weightSpecs.reduce((sum, spec) => sum + bytesOf(spec), 0);
  if (weightData.byteLength !== expected) {
    throw new EmonasError(
      'unreadable_file',
      `The weights of the saved network in ${dir} are ${weightData.byteLength} bytes but model.json describes ` +
        `${expected}; the folder is incomplete or mixes two saves. Save the network again.`,
      { file: join(dir, WEIGHTS_FILE) },
    );
  }
  try {
    return await loadLayersModel(
      io.fromMemory({
        modelTopology: modelJson.modelTopology,
        weightSpecs,
        weightData: weightData.buffer.slice(
          weightData.byteOffset,
          weightData.byteOffset + weightData.byteLength,
        ),
        format: modelJson.format,
      }),
    );
  } catch (err) {
    throw new EmonasError(
      'unsupported_format',
      `The saved network in ${modelPath} could not be rebuilt (${err instanceof Error ? err.message : String(err)}); ` +
        'it was written by another program or another version of Emonas Studio.',
      { file: modelPath, cause: err },
    );
  }
}

async function readOrThrow(path: string, what: string): Promise<Uint8Array> {
  try {
    return await readFile(path);
  } catch (err) {
    const missing = (err as { code?: unknown }).code === 'ENOENT';
    throw new EmonasError(
      missing ? 'not_found' : 'unreadable_file',
      missing
        ? `${path} is missing: a saved network needs ${what} there. Check the folder, or save the network again.`
        : `${path} could not be read (${err instanceof Error ? err.message : String(err)}).`,
      { file: path, cause: err },
    );
  }
}

function parseModelJson(bytes: Uint8Array, path: string): io.ModelJSON {
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder().decode(bytes));
  } catch (err) {
    throw new EmonasError(
      'unreadable_file',
      `${path} is not valid JSON; the file is damaged. Save the network again.`,
      {
        file: path,
        cause: err,
      },
    );
  }
  const json = parsed as Partial<io.ModelJSON> | null;
  const manifestOk =
    Array.isArray(json?.weightsManifest) &&
    json.weightsManifest.every((group) => Array.isArray(group?.paths) && Array.isArray(group?.weights));
  if (json === null || typeof json !== 'object' || typeof json.modelTopology !== 'object' || !manifestOk) {
    throw new EmonasError(
      'unsupported_format',
      `${path} is not a TensorFlow.js layers model (it lacks modelTopology or weightsManifest).`,
      { file: path },
    );
  }
  return json as io.ModelJSON;
}

const BYTES_PER_DTYPE: Record<string, number> = { float32: 4, int32: 4, bool: 1, complex64: 8, string: 0 };

function bytesOf(spec: io.WeightsManifestEntry): number {
  if (spec.quantization !== undefined) {
    const quantBytes =
      spec.quantization.dtype === 'float16' ? 2 : spec.quantization.dtype === 'uint16' ? 2 : 1;
    return spec.shape.reduce((a, b) => a * b, 1) * quantBytes;
  }
  return spec.shape.reduce((a, b) => a * b, 1) * (BYTES_PER_DTYPE[spec.dtype] ?? 4);
}

function concat(parts: Uint8Array[]): Uint8Array {
  if (parts.length === 1 && parts[0] !== undefined) return parts[0];
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.byteLength;
  }
  return out;
}
