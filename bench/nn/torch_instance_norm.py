# Runs in: /usr/bin/python3 (torch 1.13), started by bench/nn/instance-norm.ts. The PyTorch peer: affine-free
# instance norm (F.instance_norm, eps 1e-6) forward + backward on the same shape, one thread, best of N.
# Usage: torch_instance_norm.py SHAPE_JSON REPEATS  -> prints {"ms": best}
import json
import sys
import time

import torch
import torch.nn.functional as F


def main():
    shape = json.loads(sys.argv[1])
    repeats = int(sys.argv[2])
    torch.set_num_threads(1)
    torch.manual_seed(0)
    b, x, y, z, c = shape
    data = torch.randn(b, c, x, y, z)
    weight = torch.randn(b, c, x, y, z)
    best = float("inf")
    for _ in range(repeats + 1):
        t = data.clone().requires_grad_(True)
        start = time.perf_counter()
        (F.instance_norm(t, eps=1e-6) * weight).sum().backward()
        best = min(best, time.perf_counter() - start)
    print(json.dumps({"ms": best * 1000}))


if __name__ == "__main__":
    main()
