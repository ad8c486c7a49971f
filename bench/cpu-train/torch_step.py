# Runs in: a child process of the CPU training benchmark (bench/cpu-train/run.ts), under Debian's
# /usr/bin/python3 with torch 1.13 on 2 threads. The PyTorch twin of the two benchmark networks, written
# from method.md section 2, and the preparation of the hippocampus patch both sides train on. Answers each
# JSON line {"steps": n} on stdin like tfjs-step.ts does.
import argparse
import json
import os
import sys
import time

import numpy as np

OPS = {
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


def high_water_mark_mib():
    # VmHWM, not getrusage's ru_maxrss: that one keeps the mark of the image exec replaced, the parent's.
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def prepare(case_dir, case, out_dir, batch, shape, classes):
    """Image z-scored over the case, label map; both zero-padded (or cropped) around the centre to shape."""
    import nibabel as nib

    image = nib.load(os.path.join(case_dir, "imagesTr", case)).get_fdata().astype(np.float32)
    labels = np.asarray(nib.load(os.path.join(case_dir, "labelsTr", case)).dataobj).astype(np.uint8)
    image = (image - image.mean()) / (image.std() + 1e-8)

    def fit(a):
        out = np.zeros(shape, dtype=a.dtype)
        src, dst = [], []
        for n, m in zip(a.shape, shape):
            k = min(n, m)
            s, d = (n - k) // 2, (m - k) // 2
            src.append(slice(s, s + k))
            dst.append(slice(d, d + k))
        out[tuple(dst)] = a[tuple(src)]
        return out

    image, labels = fit(image), np.minimum(fit(labels), classes - 1)
    np.stack([image] * batch).astype(np.float32).tofile(os.path.join(out_dir, "image.f32"))
    np.stack([labels] * batch).astype(np.uint8).tofile(os.path.join(out_dir, "labels.u8"))
    with open(os.path.join(out_dir, "patch.json"), "w") as f:
        json.dump({"batch": batch, "shape": list(shape), "classes": classes, "case": case}, f)


def build(args):
    import torch
    import torch.nn as nn
    import torch.nn.functional as F

    class Op(nn.Module):
        # Pre-activation ReLU (not in the stem), the op's convolutions, affine-free instance norm.
        def __init__(self, op, cin, filters, pre):
            super().__init__()
            self.filters, self.pre = filters, pre
            convs, c = [], cin
            for k in OPS[op]:
                convs.append(nn.Conv3d(c, filters, k, padding=tuple(n // 2 for n in k)))
                c = filters
            self.convs = nn.ModuleList(convs)

        def forward(self, x):
            if len(self.convs) == 0:
                c = x.shape[1]
                return x if c == self.filters else x.repeat(1, self.filters // c, 1, 1, 1)
            if self.pre:
                x = F.relu(x)
            for conv in self.convs:
                x = conv(x)
            return F.instance_norm(x, eps=1e-6)

    class Cell(nn.Module):
        def __init__(self, genome, cin, filters):
            super().__init__()
            self.sources = [0] + list(genome["inputs"])
            channels = [cin, filters, filters, filters, filters]
            self.ops = nn.ModuleList(
                Op(op, channels[src], filters, True) for op, src in zip(genome["ops"], self.sources)
            )

        def forward(self, x):
            nodes = [x]
            for op, src in zip(self.ops, self.sources):
                nodes.append(op(nodes[src]))
            return nodes[1] + nodes[2] + nodes[3] + nodes[4]

    class Emonas(nn.Module):
        def __init__(self, genome, classes):
            super().__init__()
            depth = (genome["cells"] - 1) // 2
            f = [genome["filters"] * 2**d for d in range(depth + 1)]
            self.depth = depth
            self.stem = Op(genome["ops"][0], 1, f[0], False)
            self.down = nn.ModuleList([Cell(genome, f[0], f[0])] + [Cell(genome, f[d - 1], f[d]) for d in range(1, depth + 1)])
            self.ups = nn.ModuleList(nn.ConvTranspose3d(f[d + 1], f[d], 2, stride=2) for d in reversed(range(depth)))
            self.up_cells = nn.ModuleList(Cell(genome, f[d], f[d]) for d in reversed(range(depth)))
            self.head = nn.Conv3d(f[0], classes, 1)

        def forward(self, x):
            x = self.down[0](self.stem(x))
            skips = []
            for cell in self.down[1:]:
                skips.append(x)
                x = cell(F.max_pool3d(x, 2))
            for up, cell in zip(self.ups, self.up_cells):
                x = cell(up(x) + skips.pop())
            return torch.softmax(self.head(x), dim=1)

    def soft_dice_loss(onehot, p):
        # 1 - mean over foreground classes of the batch soft Dice, as core/train/loss.ts.
        dims = (0, 2, 3, 4)
        inter = (onehot * p).sum(dims)
        denom = (onehot * onehot).sum(dims) + (p * p).sum(dims)
        dice = (2 * inter + 0.5) / (denom + 0.5)
        return 1 - dice[1:].mean()

    if args.network == "small":
        spec = json.loads(args.spec)
        b, (d1, d2, d3), f, classes = spec["batch"], spec["shape"], spec["filters"], spec["classes"]
        model = nn.Sequential(
            nn.Conv3d(1, f, 3, padding=1), nn.ReLU(), nn.Conv3d(f, f, 3, padding=1), nn.ReLU(), nn.Conv3d(f, classes, 1)
        )
        gen = torch.Generator().manual_seed(1)
        x = torch.randn(b, 1, d1, d2, d3, generator=gen)
        y = torch.randint(0, classes, (b, d1, d2, d3), generator=gen)
        loss_fn = lambda: F.cross_entropy(model(x), y)  # noqa: E731
    else:
        with open(os.path.join(args.data, "patch.json")) as fh:
            meta = json.load(fh)
        b, shape, classes = meta["batch"], meta["shape"], meta["classes"]
        image = np.fromfile(os.path.join(args.data, "image.f32"), dtype=np.float32).reshape(b, *shape)
        labels = np.fromfile(os.path.join(args.data, "labels.u8"), dtype=np.uint8).reshape(b, *shape)
        x = torch.from_numpy(image).unsqueeze(1)
        onehot = F.one_hot(torch.from_numpy(labels.astype(np.int64)), classes).permute(0, 4, 1, 2, 3).float()
        model = Emonas(json.loads(args.spec), classes)
        loss_fn = lambda: soft_dice_loss(onehot, model(x))  # noqa: E731
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)

    def step():
        optimizer.zero_grad()
        loss = loss_fn()
        loss.backward()
        optimizer.step()
        return float(loss.detach())

    return step


def serve(args):
    import torch

    torch.set_num_threads(args.threads)
    step = build(args)
    print(json.dumps({"ready": True, "threads": torch.get_num_threads(), "torch": torch.__version__}), flush=True)
    for line in sys.stdin:
        steps = json.loads(line)["steps"]
        ms, cpu_ms, loss = [], [], float("nan")
        for _ in range(steps):
            t0, c0 = time.perf_counter(), time.process_time()
            loss = step()
            ms.append((time.perf_counter() - t0) * 1000)
            cpu_ms.append((time.process_time() - c0) * 1000)
        peak = high_water_mark_mib()
        print(json.dumps({"ms": ms, "cpuMs": cpu_ms, "loss": loss, "peakRssMiB": peak}), flush=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", choices=["prepare", "serve"])
    parser.add_argument("--network", default="small")
    parser.add_argument("--spec", default="{}")
    parser.add_argument("--data", default="")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--case-dir", default="")
    parser.add_argument("--case", default="hippocampus_001.nii.gz")
    parser.add_argument("--batch", type=int, default=2)
    parser.add_argument("--shape", default="48,64,48")
    parser.add_argument("--classes", type=int, default=3)
    a = parser.parse_args()
    if a.mode == "prepare":
        prepare(a.case_dir, a.case, a.data, a.batch, tuple(int(n) for n in a.shape.split(",")), a.classes)
    else:
        serve(a)
