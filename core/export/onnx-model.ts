// Runs in: the engine. A NetworkGraph as an ONNX model (opset 17, IR version 8): input `image`
// [batch, channels, d1, d2, d3] with symbolic sizes, outputs `logits` and `probabilities`, the weights as
// initialisers and the preprocessing notes as metadata_props. Field numbers are those of onnx.proto.

import { ProtoMessage } from './protobuf.ts';
import type { ExportTensor, GraphStep, NetworkGraph } from './network-graph.ts';

export const ONNX_OPSET = 17;
export const ONNX_IR_VERSION = 8;

const FLOAT = 1;
const ATTR_FLOAT = 1;
const ATTR_INT = 2;
const ATTR_INTS = 7;

type Attribute = { name: string } & ({ f: number } | { i: number } | { ints: readonly number[] });

function attribute(a: Attribute): ProtoMessage {
  const m = new ProtoMessage().string(1, a.name);
  if ('f' in a) return m.float(2, a.f).int(20, ATTR_FLOAT);
  if ('i' in a) return m.int(3, a.i).int(20, ATTR_INT);
  return m.ints(8, a.ints).int(20, ATTR_INTS);
}

function node(
  opType: string,
  inputs: readonly string[],
  output: string,
  attributes: Attribute[] = [],
): ProtoMessage {
  const m = new ProtoMessage();
  for (const input of inputs) m.string(1, input);
  m.string(2, output).string(3, output).string(4, opType);
  for (const a of attributes) m.message(5, attribute(a));
  return m;
}

function tensor(name: string, t: ExportTensor): ProtoMessage {
  const raw = new Uint8Array(t.data.byteLength);
  const view = new DataView(raw.buffer);
  for (let i = 0; i < t.data.length; i++) view.setFloat32(4 * i, t.data[i] as number, true);
  return new ProtoMessage().ints(1, t.shape).int(2, FLOAT).string(8, name).bytes(9, raw);
}

/** A float tensor value [batch, channels, d1, d2, d3], the spatial sides symbolic. */
function valueInfo(name: string, channels: number): ProtoMessage {
  const shape = new ProtoMessage();
  for (const dim of ['batch', channels, 'd1', 'd2', 'd3']) {
    shape.message(
      1,
      typeof dim === 'number' ? new ProtoMessage().int(1, dim) : new ProtoMessage().string(2, dim),
    );
  }
  const tensorType = new ProtoMessage().int(1, FLOAT).message(2, shape);
  return new ProtoMessage().string(1, name).message(2, new ProtoMessage().message(1, tensorType));
}

function constant(length: number, value: number): ExportTensor {
  return { shape: [length], data: new Float32Array(length).fill(value) };
}

/** The ONNX node(s) of one step; instance norm needs scale 1 and bias 0 initialisers of its width. */
function stepNodes(step: GraphStep, initialiser: (name: string, t: ExportTensor) => string): ProtoMessage[] {
  switch (step.kind) {
    case 'conv': {
      const pads = step.kernel.map((k) => (k - 1) / 2);
      return [
        node('Conv', [step.input, `${step.key}.weight`, `${step.key}.bias`], step.output, [
          { name: 'kernel_shape', ints: step.kernel },
          { name: 'pads', ints: [...pads, ...pads] },
          { name: 'strides', ints: [1, 1, 1] },
        ]),
      ];
    }
    case 'upconv':
      return [
        node('ConvTranspose', [step.input, `${step.key}.weight`, `${step.key}.bias`], step.output, [
          { name: 'kernel_shape', ints: [2, 2, 2] },
          { name: 'strides', ints: [2, 2, 2] },
        ]),
      ];
    case 'relu':
      return [node('Relu', [step.input], step.output)];
    case 'maxpool':
      return [
        node('MaxPool', [step.input], step.output, [
          { name: 'kernel_shape', ints: [2, 2, 2] },
          { name: 'strides', ints: [2, 2, 2] },
        ]),
      ];
    case 'norm': {
      const scale = initialiser(`ones_${step.channels}`, constant(step.channels, 1));
      const bias = initialiser(`zeros_${step.channels}`, constant(step.channels, 0));
      return [
        node('InstanceNormalization', [step.input, scale, bias], step.output, [
          { name: 'epsilon', f: step.epsilon },
        ]),
      ];
    }
    case 'replicate':
      return [
        node('Concat', Array<string>(step.copies).fill(step.input), step.output, [{ name: 'axis', i: 1 }]),
      ];
    case 'sum':
      return [node('Sum', step.inputs, step.output)];
    case 'softmax':
      return [node('Softmax', [step.input], step.output, [{ name: 'axis', i: 1 }])];
    case 'sigmoid':
      return [node('Sigmoid', [step.input], step.output)];
  }
}

export function encodeOnnx(
  graph: NetworkGraph,
  metadata: Record<string, string>,
  producerVersion: string,
): Uint8Array {
  const g = new ProtoMessage();
  const initialisers = new Map<string, ExportTensor>(graph.weights.map((w) => [w.key, w.tensor]));
  const initialiser = (name: string, t: ExportTensor): string => {
    if (!initialisers.has(name)) initialisers.set(name, t);
    return name;
  };
  for (const step of graph.steps) for (const n of stepNodes(step, initialiser)) g.message(1, n);
  g.string(2, 'emonas');
  for (const [name, t] of initialisers) g.message(5, tensor(name, t));
  g.string(10, `EMONAS-Net genome ${JSON.stringify(graph.genome)}`);
  g.message(11, valueInfo(graph.input, graph.inChannels));
  g.message(12, valueInfo(graph.logits, graph.outChannels));
  g.message(12, valueInfo(graph.probabilities, graph.outChannels));
  const model = new ProtoMessage()
    .int(1, ONNX_IR_VERSION)
    .string(2, 'Emonas Studio')
    .string(3, producerVersion)
    .message(7, g)
    .message(8, new ProtoMessage().string(1, '').int(2, ONNX_OPSET));
  for (const [key, value] of Object.entries(metadata))
    model.message(14, new ProtoMessage().string(1, key).string(2, value));
  return model.finish();
}
