// Runs in: any process that builds a network. The layers of the ten operations, the stem and the cell
// (method.md sections 2.2 and 2.3), created with seeded He-uniform kernels and stable names so a build is
// reproducible from (genome, seed, protocol) and saved weights match layer for layer.

import { initializers, layers } from '@tensorflow/tfjs-layers';
import type { SymbolicTensor } from '@tensorflow/tfjs-layers';
import { RandomStream } from '../base/random.ts';
import { DEFAULT_PROTOCOL, type TrainingProtocol } from '../base/training-protocol.ts';
import type { OpName } from '../searchspace/genome.ts';
import { ChannelReplicate } from './channel-replicate.ts';
import { InstanceNorm } from './instance-norm.ts';
import type { CellPlan, NetworkPlan } from './network-plan.ts';
import { OP_KERNELS } from './op-kernels.ts';
import type { Kernel } from './op-kernels.ts';

/**
 * Creates convolution layers whose initialisers draw their seeds, in build order, from one stream. The
 * up-convolutions and the head get He-uniform kernels under the 'reference' protocol, as the reference
 * gives them (EMONASArch.py lines 107-108 and 149, method.md 2.4), and Glorot-uniform under 'emonas'.
 */
export class LayerFactory {
  private readonly seeds: RandomStream;

  constructor(
    seed: number,
    private readonly protocol: TrainingProtocol = DEFAULT_PROTOCOL,
  ) {
    this.seeds = RandomStream.fromSeed(seed, 'weights');
  }

  /** The up-convolutions' and the head's kernel initialiser (the operations' is always He-uniform). */
  private outerInitializer(seed: number) {
    return this.protocol === 'reference'
      ? initializers.heUniform({ seed })
      : initializers.glorotUniform({ seed });
  }

  conv(
    x: SymbolicTensor,
    filters: number,
    kernel: Kernel,
    name: string,
    activation?: 'sigmoid' | 'softmax',
  ): SymbolicTensor {
    // The reference gives its head He-uniform (EMONASArch.py line 149, method.md 2.4), and so does the
    // 'reference' protocol. 'emonas' deviates on purpose with Glorot-uniform: with He there one foreground
    // class stalls for ~200 steps on Task04 (measured in a PyTorch twin; figures in core/nn/README.md).
    const seed = this.seeds.nextUint32();
    return layers
      .conv3d({
        filters,
        kernelSize: [...kernel],
        strides: 1,
        padding: 'same',
        useBias: true,
        kernelInitializer:
          activation === undefined ? initializers.heUniform({ seed }) : this.outerInitializer(seed),
        biasInitializer: 'zeros',
        ...(activation === undefined ? {} : { activation }),
        name,
      })
      .apply(x) as SymbolicTensor;
  }

  /** 2x2x2 stride-2 'same' transposed convolution with a bias: doubles every spatial side. */
  upConv(x: SymbolicTensor, filters: number, name: string): SymbolicTensor {
    return layers
      .conv3dTranspose({
        filters,
        kernelSize: 2,
        strides: 2,
        padding: 'same',
        useBias: true,
        // The reference uses He-uniform here (EMONASArch.py lines 107-108), as the 'reference' protocol
        // does; 'emonas' deviates on purpose with Glorot-uniform, which learned faster in the measurement in
        // core/nn/README.md.
        kernelInitializer: this.outerInitializer(this.seeds.nextUint32()),
        biasInitializer: 'zeros',
        name,
      })
      .apply(x) as SymbolicTensor;
  }
}

/**
 * One operation to `filters` channels. In a cell it is pre-activation (ReLU, conv(s), IN); the stem is the
 * same without the leading ReLU. Identity passes a tensor with the right channel count through untouched and
 * otherwise concatenates floor(filters / channels) copies of it.
 */
export function applyOp(
  factory: LayerFactory,
  op: OpName,
  x: SymbolicTensor,
  filters: number,
  name: string,
  preActivation: boolean,
): SymbolicTensor {
  const kernels = OP_KERNELS[op];
  if (kernels.length === 0) return replicateChannels(x, filters, name);
  let y = preActivation
    ? (layers.activation({ activation: 'relu', name: `${name}_relu` }).apply(x) as SymbolicTensor)
    : x;
  kernels.forEach((kernel, i) => {
    y = factory.conv(y, filters, kernel, `${name}_conv${i + 1}`);
  });
  return new InstanceNorm({ name: `${name}_norm` }).apply(y) as SymbolicTensor;
}

function replicateChannels(x: SymbolicTensor, filters: number, name: string): SymbolicTensor {
  const channels = x.shape[x.shape.length - 1] ?? filters;
  if (channels === filters) return x;
  return new ChannelReplicate({ copies: Math.floor(filters / channels), name: `${name}_copy` }).apply(
    x,
  ) as SymbolicTensor;
}

/** node1 = op1(node0), node k = op_k(node[input_k]); the cell's output is the sum of nodes 1 to 4. */
export function applyCell(
  factory: LayerFactory,
  plan: NetworkPlan,
  cell: CellPlan,
  x: SymbolicTensor,
): SymbolicTensor {
  const nodes: SymbolicTensor[] = [x];
  plan.ops.forEach((op, k) => {
    const source = nodes[plan.nodeInputs[k] ?? 0] ?? x;
    nodes.push(applyOp(factory, op, source, cell.filters, `cell${cell.index}_node${k + 1}`, true));
  });
  return sumWithMultiplicity(nodes.slice(1), `cell${cell.index}`);
}

/**
 * A pass-through identity makes a node the very tensor of an earlier one, so the four summands can repeat.
 * tfjs-layers' inference executor frees a tensor fed twice to one layer too early, so each distinct tensor
 * enters the sum once, scaled by how often it occurs (x + x = 2x exactly in floating point).
 */
function sumWithMultiplicity(summands: SymbolicTensor[], name: string): SymbolicTensor {
  const distinct = [...new Set(summands)];
  if (distinct.length === 1) return rescale(summands.length, distinct[0] as SymbolicTensor, `${name}_sum`);
  const terms = distinct.map((tensor) => {
    const count = summands.filter((s) => s === tensor).length;
    return count === 1
      ? tensor
      : rescale(count, tensor, `${name}_node${summands.indexOf(tensor) + 1}_times${count}`);
  });
  return layers.add({ name: `${name}_sum` }).apply(terms) as SymbolicTensor;
}

function rescale(scale: number, x: SymbolicTensor, name: string): SymbolicTensor {
  return layers.rescaling({ scale, offset: 0, name }).apply(x) as SymbolicTensor;
}
