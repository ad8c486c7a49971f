// Runs in: the engine. A trained model folder (model.json, weights.bin, emonas-model.json) as the files of
// an ONNX or PyTorch export, in memory: the caller selects the tfjs backend the saved network loads on,
// decides where the files go and refuses to overwrite.

import type { LayersModel } from '@tensorflow/tfjs-layers';
import { EmonasError } from '../base/errors.ts';
import { loadModel } from '../nn/save-load.ts';
import { exportMetadata, readmeBody, type ModelFacts } from './model-notes.ts';
import { networkGraph, type NetworkGraph } from './network-graph.ts';
import { encodeOnnx, ONNX_IR_VERSION, ONNX_OPSET } from './onnx-model.ts';
import { PYTORCH_MODULE_FILE, PYTORCH_WEIGHTS_FILE, pytorchSource } from './pytorch-module.ts';
import { encodeSafetensors } from './safetensors.ts';
import { tfjsWeightSource } from './tfjs-weights.ts';

/** The formats converted here; the tfjs format is the saved network itself, copied as it is. */
export type NetworkFormat = 'onnx' | 'pytorch';

export const ONNX_FILE = 'model.onnx';
export const EXPORT_README = 'README.md';

export interface ExportFile {
  name: string;
  bytes: Uint8Array;
}

/** The saved tfjs network as a NetworkGraph, checked layer for layer against the card's genome. */
export function graphOfModel(model: LayersModel, facts: ModelFacts, where: string): NetworkGraph {
  const inChannels = model.inputs[0]?.shape[4];
  const head = model.layers.find((l) => l.name === 'head')?.getConfig().activation;
  if (typeof inChannels !== 'number' || head !== facts.head) {
    throw new EmonasError(
      'unsupported_format',
      `The saved network in ${where} is not the one its emonas-model.json describes (input channels ` +
        `${String(inChannels)}, head ${String(head)}, expected a ${facts.head} head); export a model folder ` +
        'that emonas train or a search wrote.',
      { file: where },
    );
  }
  const source = tfjsWeightSource(model, where);
  const graph = networkGraph(facts.genome, { inChannels, classes: facts.labels.length, head }, source);
  source.checkAllUsed();
  return graph;
}

const encoder = new TextEncoder();

function onnxReadme(facts: ModelFacts, graph: NetworkGraph): string {
  return [
    `# EMONAS-Net network as ONNX (${ONNX_FILE})`,
    '',
    `ONNX opset ${ONNX_OPSET}, IR version ${ONNX_IR_VERSION}; the notes below are also in the model's ` +
      'metadata_props (keys emonas.*).',
    '',
    '```python',
    'import onnxruntime as ort',
    `session = ort.InferenceSession("${ONNX_FILE}")`,
    `logits, probabilities = session.run(["${graph.logits}", "${graph.probabilities}"], {"${graph.input}": x})`,
    '```',
    '',
    readmeBody(facts, graph),
  ].join('\n');
}

function pytorchReadme(facts: ModelFacts, graph: NetworkGraph): string {
  return [
    `# EMONAS-Net network as a PyTorch module (${PYTORCH_MODULE_FILE})`,
    '',
    `\`${PYTORCH_MODULE_FILE}\` needs torch only; \`${PYTORCH_WEIGHTS_FILE}\` holds the trained weights ` +
      '(also readable with the safetensors package). To predict, or to fine-tune in your own training code ' +
      '(forward() returns logits: use them with a cross-entropy, BCE-with-logits or Dice loss):',
    '',
    '```python',
    'from model import load',
    `net = load("${PYTORCH_WEIGHTS_FILE}")`,
    'probabilities = net.probabilities(x)  # x: torch.float32 [batch, channels, d1, d2, d3]',
    'net.train()  # then train as any nn.Module',
    '```',
    '',
    readmeBody(facts, graph),
  ].join('\n');
}

/** The export's files. */
export async function exportNetwork(
  modelDir: string,
  facts: ModelFacts,
  format: NetworkFormat,
): Promise<ExportFile[]> {
  const model = await loadModel(modelDir);
  try {
    const graph = graphOfModel(model, facts, modelDir);
    const metadata = exportMetadata(facts, graph);
    if (format === 'onnx') {
      return [
        { name: ONNX_FILE, bytes: encodeOnnx(graph, metadata, facts.version) },
        { name: EXPORT_README, bytes: encoder.encode(onnxReadme(facts, graph)) },
      ];
    }
    return [
      { name: PYTORCH_MODULE_FILE, bytes: encoder.encode(pytorchSource(graph)) },
      { name: PYTORCH_WEIGHTS_FILE, bytes: encodeSafetensors(graph.weights, metadata) },
      { name: EXPORT_README, bytes: encoder.encode(pytorchReadme(facts, graph)) },
    ];
  } finally {
    model.dispose();
  }
}
