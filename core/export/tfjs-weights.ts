// Runs in: the engine. Reads a saved tfjs network's convolution weights by layer name for the exports,
// converting tfjs's channels-last kernels to the channels-first layout PyTorch and ONNX use, and checks
// that the saved network is the one its genome describes: every weighted layer used once, every shape as
// expected. A mismatch is an error naming the folder, never a silently different network.

import type { LayersModel } from '@tensorflow/tfjs-layers';
import { EmonasError } from '../base/errors.ts';
import { InstanceNorm } from '../nn/instance-norm.ts';
import type { ExportTensor, WeightSource } from './network-graph.ts';

/**
 * tfjs conv3d kernels are [k1, k2, k3, in, out] and conv3dTranspose kernels [k1, k2, k3, out, in]; PyTorch
 * and ONNX want [out, in, k1, k2, k3] and [in, out, k1, k2, k3]. Both are the permutation (4, 3, 0, 1, 2).
 */
export function channelsFirstKernel(data: Float32Array, shape: readonly number[]): ExportTensor {
  const [a, b, c, d, e] = shape as [number, number, number, number, number];
  const out = new Float32Array(data.length);
  for (let i = 0; i < a; i++)
    for (let j = 0; j < b; j++)
      for (let k = 0; k < c; k++)
        for (let m = 0; m < d; m++)
          for (let n = 0; n < e; n++) {
            out[(((n * d + m) * a + i) * b + j) * c + k] = data[
              (((i * b + j) * c + k) * d + m) * e + n
            ] as number;
          }
  return { shape: [e, d, a, b, c], data: out };
}

export interface CheckedWeightSource extends WeightSource {
  /** Throws unless every layer with weights was read. */
  checkAllUsed(): void;
}

/** `where` names the model folder in the messages. */
export function tfjsWeightSource(model: LayersModel, where: string): CheckedWeightSource {
  const used = new Set<string>();
  const mismatch = (what: string): EmonasError =>
    new EmonasError(
      'unsupported_format',
      `The saved network in ${where} does not match the genome in its emonas-model.json: ${what}. The folder ` +
        'mixes two networks or was changed by hand; export a model folder that emonas train or a search wrote.',
      { file: where },
    );
  const layer = (name: string) => {
    const found = model.layers.find((l) => l.name === name);
    if (found === undefined) throw mismatch(`it has no layer ${name}`);
    return found;
  };
  return {
    convolution(name, expected) {
      const weights = layer(name).getWeights();
      const [kernel, bias] = weights;
      const [k1, k2, k3] = expected.kernel;
      const want = expected.transposed
        ? [k1, k2, k3, expected.filters, expected.inChannels]
        : [k1, k2, k3, expected.inChannels, expected.filters];
      if (
        weights.length !== 2 ||
        kernel === undefined ||
        bias === undefined ||
        kernel.shape.join() !== want.join() ||
        bias.shape.join() !== String(expected.filters)
      ) {
        const shapes = weights.map((w) => `[${w.shape.join(', ')}]`).join(' and ');
        throw mismatch(`layer ${name} holds weights ${shapes}, not a kernel [${want.join(', ')}] and a bias`);
      }
      used.add(name);
      return {
        kernel: channelsFirstKernel(kernel.dataSync() as Float32Array, kernel.shape),
        bias: { shape: [expected.filters], data: Float32Array.from(bias.dataSync()) },
      };
    },
    normEpsilon(name) {
      const norm = layer(name);
      if (!(norm instanceof InstanceNorm)) throw mismatch(`layer ${name} is not an instance normalisation`);
      return norm.epsilon;
    },
    checkAllUsed() {
      const extra = model.layers.filter((l) => l.getWeights().length > 0 && !used.has(l.name));
      if (extra.length > 0) {
        throw mismatch(
          `it has weighted layers the genome does not describe (${extra.map((l) => l.name).join(', ')})`,
        );
      }
    },
  };
}
