// Runs in: the engine. The network a genome describes as a framework-neutral list of steps, laid out exactly
// as core/nn/build-model.ts builds it (stem, cells summing nodes 1-4, 2x2x2 max-pools, stride-2 transposed
// convolutions added to the encoder skips, 1x1x1 head), with every convolution's trained weights in the
// channels-first layout PyTorch and ONNX share. The ONNX writer emits these steps one for one; the PyTorch
// module rebuilds the same network from the genome, and its state-dict keys are the keys given here.

import { planNetwork, type CellPlan } from '../nn/network-plan.ts';
import { OP_KERNELS, type Kernel } from '../nn/op-kernels.ts';
import type { Genome, OpName } from '../searchspace/genome.ts';

/** A float32 tensor, row-major. */
export interface ExportTensor {
  shape: number[];
  data: Float32Array;
}

export interface NamedWeight {
  /** The PyTorch state-dict key, e.g. `cells.2.nodes.0.convs.1.weight`. */
  key: string;
  tensor: ExportTensor;
}

type Unary = { input: string; output: string };

export type GraphStep =
  | (Unary & { kind: 'conv'; key: string; kernel: Kernel; inChannels: number; filters: number })
  | (Unary & { kind: 'upconv'; key: string; inChannels: number; filters: number })
  | (Unary & { kind: 'relu' | 'maxpool' | 'softmax' | 'sigmoid' })
  | (Unary & { kind: 'norm'; channels: number; epsilon: number })
  | (Unary & { kind: 'replicate'; copies: number })
  | { kind: 'sum'; inputs: string[]; output: string };

export type GraphStepKind = GraphStep['kind'];

export interface NetworkGraph {
  genome: Genome;
  inChannels: number;
  outChannels: number;
  head: 'softmax' | 'sigmoid';
  input: string;
  logits: string;
  probabilities: string;
  steps: GraphStep[];
  /** Weight and bias of every convolution, in build order. */
  weights: NamedWeight[];
}

/** Where the trained weights come from, looked up by the tfjs layer names core/nn gives. */
export interface WeightSource {
  /**
   * A convolution's kernel, already channels-first ([out, in, k1, k2, k3]; a transposed convolution's
   * [in, out, k1, k2, k3]), and its bias. Throws when the layer is missing or shaped otherwise.
   */
  convolution(
    layer: string,
    expected: { kernel: Kernel; inChannels: number; filters: number; transposed: boolean },
  ): { kernel: ExportTensor; bias: ExportTensor };
  /** The epsilon of an instance-norm layer. */
  normEpsilon(layer: string): number;
}

export const GRAPH_INPUT = 'image';
export const GRAPH_LOGITS = 'logits';
export const GRAPH_PROBABILITIES = 'probabilities';

class GraphBuilder {
  readonly steps: GraphStep[] = [];
  readonly weights: NamedWeight[] = [];

  constructor(private readonly source: WeightSource) {}

  /** A convolution of the tfjs layer `layer`; its output tensor is named after the layer unless given. */
  conv(
    input: string,
    layer: string,
    key: string,
    kernel: Kernel,
    inChannels: number,
    filters: number,
    output = layer,
  ): string {
    const w = this.source.convolution(layer, { kernel, inChannels, filters, transposed: false });
    this.weights.push({ key: `${key}.weight`, tensor: w.kernel }, { key: `${key}.bias`, tensor: w.bias });
    this.steps.push({ kind: 'conv', input, output, key, kernel, inChannels, filters });
    return output;
  }

  upConv(input: string, output: string, key: string, inChannels: number, filters: number): string {
    const kernel: Kernel = [2, 2, 2];
    const w = this.source.convolution(output, { kernel, inChannels, filters, transposed: true });
    this.weights.push({ key: `${key}.weight`, tensor: w.kernel }, { key: `${key}.bias`, tensor: w.bias });
    this.steps.push({ kind: 'upconv', input, output, key, inChannels, filters });
    return output;
  }

  /** The operation to `filters` channels, as core/nn/cell-layers.ts applyOp; returns its output name. */
  op(
    op: OpName,
    input: string,
    channels: number,
    filters: number,
    name: string,
    key: string,
    pre: boolean,
  ): string {
    const kernels = OP_KERNELS[op];
    if (kernels.length === 0) {
      if (channels === filters) return input;
      const output = `${name}_copy`;
      this.steps.push({ kind: 'replicate', input, output, copies: Math.floor(filters / channels) });
      return output;
    }
    let x = input;
    if (pre) {
      this.steps.push({ kind: 'relu', input: x, output: `${name}_relu` });
      x = `${name}_relu`;
    }
    kernels.forEach((kernel, i) => {
      x = this.conv(
        x,
        `${name}_conv${i + 1}`,
        `${key}.convs.${i}`,
        kernel,
        i === 0 ? channels : filters,
        filters,
      );
    });
    const output = `${name}_norm`;
    this.steps.push({
      kind: 'norm',
      input: x,
      output,
      channels: filters,
      epsilon: this.source.normEpsilon(output),
    });
    return output;
  }
}

/** Output channels of the head: every class for softmax, every foreground class for sigmoid. */
export function headChannels(head: 'softmax' | 'sigmoid', classes: number): number {
  return head === 'softmax' ? classes : classes - 1;
}

export function networkGraph(
  genome: Genome,
  options: { inChannels: number; classes: number; head: 'softmax' | 'sigmoid' },
  source: WeightSource,
): NetworkGraph {
  const plan = planNetwork(genome, options.inChannels);
  const outChannels = headChannels(options.head, options.classes);
  const b = new GraphBuilder(source);
  const filters0 = plan.levelFilters[0] ?? genome.filters;
  let x = b.op(plan.ops[0], GRAPH_INPUT, options.inChannels, filters0, 'stem', 'stem', false);
  let channels = filters0;
  const skips: { name: string; channels: number }[] = [];
  const cell = (c: CellPlan, input: string): string => {
    const nodes: { name: string; channels: number }[] = [{ name: input, channels: c.inChannels }];
    plan.ops.forEach((op, k) => {
      const source = nodes[plan.nodeInputs[k] ?? 0] ?? (nodes[0] as { name: string; channels: number });
      const name = b.op(
        op,
        source.name,
        source.channels,
        c.filters,
        `cell${c.index}_node${k + 1}`,
        `cells.${c.index}.nodes.${k}`,
        true,
      );
      nodes.push({ name, channels: c.filters });
    });
    const output = `cell${c.index}_sum`;
    b.steps.push({ kind: 'sum', inputs: nodes.slice(1).map((n) => n.name), output });
    return output;
  };
  for (const c of plan.cells) {
    if (c.index > 0 && c.index <= plan.depth) {
      skips.push({ name: x, channels });
      b.steps.push({ kind: 'maxpool', input: x, output: `pool${c.level}` });
      x = `pool${c.level}`;
    } else if (c.index > plan.depth) {
      const up = b.upConv(x, `up${c.level}`, `ups.${c.index - plan.depth - 1}`, channels, c.filters);
      const skip = skips.pop();
      if (skip === undefined) throw new Error(`The decoder cell ${c.index} has no encoder skip to add.`);
      b.steps.push({ kind: 'sum', inputs: [up, skip.name], output: `skip${c.level}` });
      x = `skip${c.level}`;
    }
    x = cell(c, x);
    channels = c.filters;
  }
  b.conv(x, 'head', 'head', [1, 1, 1], channels, outChannels, GRAPH_LOGITS);
  b.steps.push({ kind: options.head, input: GRAPH_LOGITS, output: GRAPH_PROBABILITIES });
  return {
    genome,
    inChannels: options.inChannels,
    outChannels,
    head: options.head,
    input: GRAPH_INPUT,
    logits: GRAPH_LOGITS,
    probabilities: GRAPH_PROBABILITIES,
    steps: b.steps,
    weights: b.weights,
  };
}
