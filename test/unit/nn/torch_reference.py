# Runs in: /usr/bin/python3 (torch 1.13, numpy), started by torch-reference.test.ts. An independent PyTorch
# forward pass of the EMONAS-Net network written from method.md section 2, fed the weights a tfjs model saved
# (model.json + weights.bin), so the test can compare the two networks' outputs on the same image.
#
# Usage: torch_reference.py MODEL_DIR GENOME_JSON HEAD INPUT_F32 SHAPE_JSON OUTPUT_F32
import json
import sys

import numpy as np
import torch
import torch.nn.functional as F

KERNELS = {
    "conv3d_1x1x1": [(1, 1, 1)],
    "conv3d_3x3x3": [(3, 3, 3)],
    "conv2d_3x3": [(3, 3, 1)],
    "conv2d_5x5": [(5, 5, 1)],
    "convP3d_3x3": [(3, 3, 1), (1, 1, 3)],
    "convP3d_5x5": [(5, 5, 1), (1, 1, 5)],
    "identity": [],
    "conv3d_5x5x5": [(5, 5, 5)],
    "conv2d_7x7": [(7, 7, 1)],
    "convP3d_7x7": [(7, 7, 1), (1, 1, 7)],
}


def load_weights(model_dir):
    with open(f"{model_dir}/model.json") as f:
        manifest = json.load(f)["weightsManifest"]
    weights = {}
    for group in manifest:
        data = b"".join(open(f"{model_dir}/{p}", "rb").read() for p in group["paths"])
        offset = 0
        for spec in group["weights"]:
            n = int(np.prod(spec["shape"]))
            weights[spec["name"]] = np.frombuffer(data, np.float32, n, offset).reshape(spec["shape"])
            offset += 4 * n
    return weights


def conv(x, weights, name):
    # tfjs kernel [k1, k2, k3, in, out] -> torch [out, in, k1, k2, k3]; odd kernels, 'same' = symmetric padding.
    kernel = torch.from_numpy(weights[f"{name}/kernel"].copy()).permute(4, 3, 0, 1, 2)
    bias = torch.from_numpy(weights[f"{name}/bias"].copy())
    return F.conv3d(x, kernel, bias, padding=tuple(k // 2 for k in kernel.shape[2:]))


def up_conv(x, weights, name):
    # tfjs transposed kernel [k1, k2, k3, out, in] -> torch [in, out, k1, k2, k3]; 2x2x2 stride 2 needs no padding.
    kernel = torch.from_numpy(weights[f"{name}/kernel"].copy()).permute(4, 3, 0, 1, 2)
    bias = torch.from_numpy(weights[f"{name}/bias"].copy())
    return F.conv_transpose3d(x, kernel, bias, stride=2)


def op(x, weights, name, op_name, filters, pre_activation):
    kernels = KERNELS[op_name]
    if not kernels:
        return x if x.shape[1] == filters else torch.cat([x] * (filters // x.shape[1]), dim=1)
    y = F.relu(x) if pre_activation else x
    for i in range(len(kernels)):
        y = conv(y, weights, f"{name}_conv{i + 1}")
    return F.instance_norm(y, eps=1e-6)


def forward(x, genome, weights, head):
    inputs = [0] + genome["inputs"]
    ops = genome["ops"]
    depth = (genome["cells"] - 1) // 2
    filters = [genome["filters"] * 2**d for d in range(depth + 1)]

    def cell(x, index, f):
        nodes = [x]
        for k in range(4):
            nodes.append(op(nodes[inputs[k]], weights, f"cell{index}_node{k + 1}", ops[k], f, True))
        return nodes[1] + nodes[2] + nodes[3] + nodes[4]

    h = op(x, weights, "stem", ops[0], filters[0], False)
    h = cell(h, 0, filters[0])
    skips = []
    for d in range(1, depth + 1):
        skips.append(h)
        h = cell(F.max_pool3d(h, 2, 2), d, filters[d])
    for i, d in enumerate(range(depth - 1, -1, -1)):
        h = cell(up_conv(h, weights, f"up{d}") + skips.pop(), depth + 1 + i, filters[d])
    logits = conv(h, weights, "head")
    return torch.softmax(logits, dim=1) if head == "softmax" else torch.sigmoid(logits)


def main():
    model_dir, genome_json, head, input_path, shape_json, output_path = sys.argv[1:7]
    shape = json.loads(shape_json)
    x = np.fromfile(input_path, np.float32).reshape(shape)
    with torch.no_grad():
        y = forward(torch.from_numpy(x).permute(0, 4, 1, 2, 3), json.loads(genome_json), load_weights(model_dir), head)
    y.permute(0, 2, 3, 4, 1).contiguous().numpy().astype(np.float32).tofile(output_path)


if __name__ == "__main__":
    main()
