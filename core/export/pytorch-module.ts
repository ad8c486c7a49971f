// Runs in: the engine. The exported model.py: a readable, self-contained PyTorch module (torch only, nothing
// of this project) that rebuilds the network from its genome exactly as core/nn/build-model.ts does, with
// state-dict keys equal to the NetworkGraph's, and a loader for the weights.safetensors written beside it.

import { EmonasError } from '../base/errors.ts';
import { OP_KERNELS } from '../nn/op-kernels.ts';
import type { NetworkGraph } from './network-graph.ts';

export const PYTORCH_MODULE_FILE = 'model.py';
export const PYTORCH_WEIGHTS_FILE = 'weights.safetensors';

function pythonKernels(): string {
  return Object.entries(OP_KERNELS)
    .map(([op, kernels]) => `    "${op}": [${kernels.map((k) => `(${k.join(', ')})`).join(', ')}],`)
    .join('\n');
}

function pythonList(values: readonly (string | number)[]): string {
  return `[${values.map((v) => JSON.stringify(v)).join(', ')}]`;
}

/** The one epsilon every instance norm of the network uses; a network mixing several is refused. */
function epsilonOf(graph: NetworkGraph): number {
  const epsilons = new Set(graph.steps.flatMap((s) => (s.kind === 'norm' ? [s.epsilon] : [])));
  if (epsilons.size > 1) {
    throw new EmonasError(
      'unsupported_format',
      `The network's instance norms use different epsilons (${[...epsilons].join(', ')}); the PyTorch export ` +
        'writes one network-wide value, so it cannot express this network.',
    );
  }
  return [...epsilons][0] ?? 1e-6;
}

export function pytorchSource(graph: NetworkGraph): string {
  const { genome } = graph;
  return `"""EMONAS-Net segmentation network exported by Emonas Studio: a plain PyTorch module.

Needs torch only. Load it with:

    from model import load
    net = load("${PYTORCH_WEIGHTS_FILE}")  # an EmonasNet in eval mode
    logits = net(x)  # x: float32 [batch, ${graph.inChannels}, d1, d2, d3]
    probabilities = net.probabilities(x)

See README.md beside this file for the preprocessing x needs and the label of each output channel.
"""
import json
import struct

import torch
import torch.nn.functional as F
from torch import nn

# The genome (method: Baldeon-Calisto and Lai-Yuen, EMONAS-Net, 2021).
FILTERS = ${genome.filters}  # first-level filters; level d has FILTERS * 2**d
CELLS = ${genome.cells}  # one full-resolution cell, (CELLS - 1) / 2 down and as many up
OPS = ${pythonList(genome.ops)}  # operations of nodes 1-4
NODE_INPUTS = ${pythonList([0, ...genome.inputs])}  # the node each of nodes 1-4 reads (0: the cell input)

IN_CHANNELS = ${graph.inChannels}
OUT_CHANNELS = ${graph.outChannels}
HEAD = "${graph.head}"
EPSILON = ${epsilonOf(graph)}

# Each operation's convolutions over (d1, d2, d3); pseudo-3D ones are in-plane, then through-plane.
KERNELS = {
${pythonKernels()}
}


class Operation(nn.Module):
    """ReLU (not in the stem), the convolutions ('same' padding), affine-free instance norm.

    Identity has no weights: it passes a tensor of the right width through, else concatenates
    FILTERS // channels copies of it along the channels.
    """

    def __init__(self, op, in_channels, filters, pre_activation):
        super().__init__()
        kernels = KERNELS[op]
        self.pre_activation = pre_activation
        self.copies = 1 if kernels or in_channels == filters else filters // in_channels
        self.convs = nn.ModuleList(
            nn.Conv3d(in_channels if i == 0 else filters, filters, k, padding=tuple(s // 2 for s in k))
            for i, k in enumerate(kernels)
        )
        self.norm = nn.InstanceNorm3d(filters, eps=EPSILON, affine=False) if kernels else None

    def forward(self, x):
        if self.norm is None:
            return x if self.copies == 1 else torch.cat([x] * self.copies, dim=1)
        if self.pre_activation:
            x = F.relu(x)
        for conv in self.convs:
            x = conv(x)
        return self.norm(x)


class Cell(nn.Module):
    """node k = OPS[k](node NODE_INPUTS[k]); the output is the sum of nodes 1 to 4."""

    def __init__(self, in_channels, filters):
        super().__init__()
        widths = [in_channels, filters, filters, filters]
        self.nodes = nn.ModuleList(
            Operation(op, widths[source], filters, pre_activation=True) for op, source in zip(OPS, NODE_INPUTS)
        )

    def forward(self, x):
        nodes = [x]
        for node, source in zip(self.nodes, NODE_INPUTS):
            nodes.append(node(nodes[source]))
        return nodes[1] + nodes[2] + nodes[3] + nodes[4]


class EmonasNet(nn.Module):
    """Stem, a cell per level down with 2x2x2 max-pools, 2x2x2 stride-2 transposed convolutions added to the
    encoder's skips on the way up, and a 1x1x1 head. forward() returns logits."""

    def __init__(self):
        super().__init__()
        self.depth = (CELLS - 1) // 2
        width = [FILTERS * 2**d for d in range(self.depth + 1)]
        levels = list(range(self.depth + 1)) + list(range(self.depth - 1, -1, -1))
        self.stem = Operation(OPS[0], IN_CHANNELS, width[0], pre_activation=False)
        self.cells = nn.ModuleList(
            Cell(width[level - 1] if 0 < i <= self.depth else width[level], width[level])
            for i, level in enumerate(levels)
        )
        self.ups = nn.ModuleList(
            nn.ConvTranspose3d(width[d + 1], width[d], 2, stride=2) for d in range(self.depth - 1, -1, -1)
        )
        self.head = nn.Conv3d(width[0], OUT_CHANNELS, 1)

    def forward(self, x):
        x = self.stem(x)
        skips = []
        for i, cell in enumerate(self.cells):
            if 0 < i <= self.depth:
                skips.append(x)
                x = F.max_pool3d(x, 2, 2)
            elif i > self.depth:
                x = self.ups[i - self.depth - 1](x) + skips.pop()
            x = cell(x)
        return self.head(x)

    def probabilities(self, x):
        logits = self(x)
        return torch.softmax(logits, dim=1) if HEAD == "softmax" else torch.sigmoid(logits)


def load_safetensors(path):
    """The tensors of a .safetensors file (8-byte header length, JSON header, little-endian data)."""
    with open(path, "rb") as f:
        (length,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(length))
        data = bytearray(f.read())
    dtypes = {"F32": torch.float32}
    tensors = {}
    for name, spec in header.items():
        if name == "__metadata__":
            continue
        begin, end = spec["data_offsets"]
        tensor = torch.frombuffer(data[begin:end], dtype=dtypes[spec["dtype"]]) if end > begin else torch.empty(0)
        tensors[name] = tensor.reshape(spec["shape"]).clone()
    return tensors


def load(path="${PYTORCH_WEIGHTS_FILE}"):
    net = EmonasNet()
    net.load_state_dict(load_safetensors(path))
    return net.eval()
`;
}
