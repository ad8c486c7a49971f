// Runs in: any process that builds a network (a training worker, tests). Genome -> tf.LayersModel, the
// U-Net-like encoder-decoder of method.md section 2.4: stem, a cell per level down with 2x2x2 max-pools,
// transposed-convolution ups added to the encoder skips, cells back up, and a 1x1x1 head.

import { layers, input as symbolicInput, model as functionalModel } from '@tensorflow/tfjs-layers';
import type { LayersModel, SymbolicTensor } from '@tensorflow/tfjs-layers';
import { EmonasError } from '../base/errors.ts';
import type { TrainingProtocol } from '../base/training-protocol.ts';
import type { Genome } from '../searchspace/genome.ts';
import './conv3d-transpose-grad.ts';
import { applyCell, applyOp, LayerFactory } from './cell-layers.ts';
import { checkPatchShape } from './patch-shape.ts';
import { planNetwork } from './network-plan.ts';
import { checkClasses } from './param-count.ts';

export type HeadActivation = 'softmax' | 'sigmoid';

export interface BuildOptions {
  /** [X, Y, Z, C]: the patch (each side divisible by 2^pools) and the image channels. */
  inputShape: readonly [number, number, number, number];
  /**
   * Output channels. Softmax: background + foreground classes (at least 2). Sigmoid: one channel per
   * foreground class, 1 in the reference.
   */
  classes: number;
  head: HeadActivation;
  /** Seeds the weight initialisation; the same genome, options and seed give the same weights. */
  seed: number;
  /**
   * 'reference': He-uniform up-convolutions and head as the reference; 'emonas' (default): Glorot-uniform
   * there, a deliberate deviation (cell-layers.ts, README.md "Initialisation").
   */
  protocol?: TrainingProtocol;
  name?: string;
}

export function buildModel(genome: Genome, options: BuildOptions): LayersModel {
  const [x, y, z, channels] = options.inputShape;
  checkClasses(options.classes);
  if (options.head === 'softmax' && options.classes < 2) {
    throw new EmonasError(
      'invalid_genome',
      'A softmax head needs at least 2 classes (background and one foreground class); use the sigmoid head ' +
        'for a single foreground class.',
    );
  }
  if (options.head !== 'softmax' && options.head !== 'sigmoid') {
    throw new EmonasError(
      'invalid_genome',
      `The head must be "softmax" or "sigmoid", not "${String(options.head)}".`,
    );
  }
  if (!Number.isFinite(options.seed)) {
    throw new EmonasError(
      'invalid_genome',
      `The weight seed must be a finite number, not ${String(options.seed)}.`,
    );
  }
  const plan = planNetwork(genome, channels);
  checkPatchShape(genome, [x, y, z]);

  const factory = new LayerFactory(options.seed, options.protocol);
  const image = symbolicInput({ shape: [x, y, z, channels], name: 'image' });
  let features = applyOp(factory, plan.ops[0], image, plan.levelFilters[0] ?? genome.filters, 'stem', false);
  const skips: SymbolicTensor[] = [];
  for (const cell of plan.cells) {
    if (cell.index > 0 && cell.index <= plan.depth) {
      skips.push(features);
      features = layers
        .maxPooling3d({ poolSize: 2, strides: 2, padding: 'valid', name: `pool${cell.level}` })
        .apply(features) as SymbolicTensor;
    } else if (cell.index > plan.depth) {
      const up = factory.upConv(features, cell.filters, `up${cell.level}`);
      const skip = skips.pop() ?? features;
      features = layers.add({ name: `skip${cell.level}` }).apply([up, skip]) as SymbolicTensor;
    }
    features = applyCell(factory, plan, cell, features);
  }
  const output = factory.conv(features, options.classes, [1, 1, 1], 'head', options.head);
  return functionalModel({ inputs: image, outputs: output, name: options.name ?? 'emonas' });
}
