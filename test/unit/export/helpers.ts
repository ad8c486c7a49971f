// Runs in: a test process. What the export tests share: Debian's Python with torch and onnx (a missing
// module fails the test with what to install), the PyTorch and ONNX checks run on an export, ONNX Runtime
// (the onnxruntime-node package) on an exported model, the source tfjs model's logits channels-first, and
// model folders with random weights.
import { spawnSync } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import { model as functionalModel } from '@tensorflow/tfjs-layers';
import type { LayersModel, SymbolicTensor } from '@tensorflow/tfjs-layers';
import { InferenceSession, Tensor as OrtTensor } from 'onnxruntime-node';
import { RandomStream } from '../../../core/base/random.ts';
import type { Shape3 } from '../../../core/datasets/pipeline/grid.ts';
import type { PreprocessingPlan } from '../../../core/datasets/pipeline/plan.ts';
import { buildModel } from '../../../core/nn/build-model.ts';
import { saveModel } from '../../../core/nn/save-load.ts';
import type { Genome } from '../../../core/searchspace/genome.ts';
import { writeModelCard } from '../../../core/train/model-card.ts';

export const PYTHON = '/usr/bin/python3';
const here = (name: string): string => fileURLToPath(new URL(name, import.meta.url));

/** Fails, naming the Debian packages to install, unless every module imports in Debian's Python. */
export function requirePython(modules: string[], packages: string): void {
  const probe = spawnSync(PYTHON, ['-c', `import ${modules.join(', ')}`], { encoding: 'utf8' });
  if (probe.status !== 0) {
    throw new Error(
      `The export tests run the exports in Debian's Python and need ${PYTHON} with ${modules.join(', ')} ` +
        `importable: apt-get install ${packages}. ${probe.error?.message ?? probe.stderr.trim()}`,
    );
  }
}

export interface TorchRun {
  /** Channels-first [batch, channels, d1, d2, d3]. */
  logits: Float32Array;
  probabilities: Float32Array;
  losses: number[];
  parameters: number;
}

/**
 * Loads the PyTorch export as its README says; returns its outputs on x and the losses of a few training
 * steps on `target` (class indices, background 0).
 */
export async function runTorchExport(
  exportDir: string,
  x: Float32Array,
  shape: number[],
  target: Uint8Array,
  steps: number,
): Promise<TorchRun> {
  const files = {
    x: join(exportDir, 'x.f32'),
    logits: join(exportDir, 'logits.f32'),
    probabilities: join(exportDir, 'probabilities.f32'),
    target: join(exportDir, 'target.u8'),
  };
  await writeFile(files.x, x);
  await writeFile(files.target, target);
  const run = spawnSync(
    PYTHON,
    [
      here('./torch_export_check.py'),
      exportDir,
      files.x,
      JSON.stringify(shape),
      files.logits,
      files.probabilities,
      files.target,
      String(steps),
    ],
    { encoding: 'utf8' },
  );
  if (run.status !== 0) throw new Error(`The PyTorch export failed to run: ${run.stderr}`);
  const floats = async (file: string): Promise<Float32Array> => {
    const bytes = await readFile(file);
    return new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
  };
  const out = JSON.parse(run.stdout) as { losses: number[]; parameters: number };
  return { logits: await floats(files.logits), probabilities: await floats(files.probabilities), ...out };
}

export interface OnnxCheck {
  ir_version: number;
  opsets: Record<string, number>;
  inputs: string[];
  outputs: string[];
  op_types: string[];
  metadata: Record<string, string>;
}

/** onnx.checker.check_model with full shape inference, and what the model declares. */
export function checkOnnx(file: string): OnnxCheck {
  const run = spawnSync(PYTHON, [here('./onnx_check.py'), file], { encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`The ONNX checker refused ${file}: ${run.stderr}`);
  return JSON.parse(run.stdout) as OnnxCheck;
}

/** The exported ONNX model run in ONNX Runtime (CPU): both outputs, channels-first. */
export async function runOnnx(
  file: string,
  x: Float32Array,
  shape: number[],
): Promise<{ logits: Float32Array; probabilities: Float32Array }> {
  const session = await InferenceSession.create(file);
  try {
    const out = await session.run({ image: new OrtTensor('float32', x, shape) });
    const logits = out.logits?.data;
    const probabilities = out.probabilities?.data;
    if (!(logits instanceof Float32Array) || !(probabilities instanceof Float32Array)) {
      throw new Error(`ONNX Runtime gave no float logits and probabilities for ${file}.`);
    }
    return { logits, probabilities };
  } finally {
    await session.release();
  }
}

/** [b, d1, d2, d3, c] channels-last data as channels-first [b, c, d1, d2, d3]. */
export function channelsFirst(data: Float32Array | Int32Array | Uint8Array, shape: number[]): Float32Array {
  const [b, d1, d2, d3, c] = shape as [number, number, number, number, number];
  const v = d1 * d2 * d3;
  const out = new Float32Array(data.length);
  for (let n = 0; n < b; n++)
    for (let i = 0; i < v; i++)
      for (let k = 0; k < c; k++) out[(n * c + k) * v + i] = data[(n * v + i) * c + k] as number;
  return out;
}

/** The source model's logits (its head before the activation) and probabilities, channels-first. */
export function tfjsOutputs(
  model: LayersModel,
  x: Float32Array,
  shape: number[],
): { logits: Float32Array; probabilities: Float32Array } {
  const head = model.getLayer('head');
  const trunk = functionalModel({ inputs: model.inputs, outputs: head.input as SymbolicTensor });
  const [kernel, bias] = head.getWeights() as [tf.Tensor5D, tf.Tensor1D];
  const [logits, probabilities] = tf.tidy(() => {
    const input = tf.tensor(x, shape);
    const features = trunk.predict(input) as tf.Tensor5D;
    return [tf.add(tf.conv3d(features, kernel, 1, 'same'), bias), model.predict(input) as tf.Tensor];
  });
  const outShape = logits.shape;
  const result = {
    logits: channelsFirst(logits.dataSync() as Float32Array, outShape),
    probabilities: channelsFirst(probabilities.dataSync() as Float32Array, outShape),
  };
  logits.dispose();
  probabilities.dispose();
  return result;
}

export function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length)
    throw new Error(`Outputs of ${a.length} and ${b.length} values cannot be compared.`);
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs((a[i] as number) - (b[i] as number)));
  return worst;
}

function planFor(labels: number, patch: Shape3): PreprocessingPlan {
  return {
    format: 'emonas-plan-1',
    dataset: 'synthetic',
    labels: Array.from({ length: labels }, (_, value) => ({
      value,
      name: value === 0 ? 'background' : `structure ${value}`,
    })),
    head: labels === 2 ? 'sigmoid' : 'softmax',
    axisOrder: [0, 1, 2],
    targetSpacing: [1, 1, 1],
    normalisation: 'zscore-per-case',
    divisor: 16,
    medianShape: [...patch],
    maxShape: [...patch],
    patch: [...patch],
    cases: 1,
    notes: [],
  };
}

/**
 * A model folder in `dir` as emonas train writes one (model.json, weights.bin, emonas-model.json) for a
 * one-channel network with random weights and biases (not the zero-bias start); a sigmoid head for 2 labels.
 * Returns the model, which the caller disposes.
 */
export async function writeModelFolder(
  dir: string,
  genome: Genome,
  labels: number,
  patch: Shape3,
  seed: number,
): Promise<LayersModel> {
  const plan = planFor(labels, patch);
  const model = buildModel(genome, {
    inputShape: [...patch, 1],
    classes: plan.head === 'softmax' ? labels : labels - 1,
    head: plan.head,
    seed,
  });
  const random = RandomStream.fromSeed(seed, 'export weights');
  model.setWeights(
    model.getWeights().map((w) =>
      tf.tensor(
        Float32Array.from({ length: w.size }, () => 0.1 * random.normal()),
        w.shape,
      ),
    ),
  );
  await saveModel(model, dir);
  await writeModelCard(dir, {
    format: 'emonas-model-1',
    genome,
    plan,
    params: model.countParams(),
    backend: 'cpu',
    bestEpoch: 0,
    valDice: {},
    createdAt: '2026-12-07T00:00:00.000Z',
  });
  return model;
}
