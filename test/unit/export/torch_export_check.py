# Runs in: /usr/bin/python3 (Debian's torch), started by the export tests. Loads a PyTorch export exactly as
# its README says (model.py and weights.safetensors only), writes its logits and probabilities for a given
# input, then trains
# it for STEPS steps (none when 0) on a given target and prints the losses, so the test sees it is trainable.
#
# Usage: torch_export_check.py EXPORT_DIR INPUT_F32 SHAPE_JSON LOGITS_F32 PROBABILITIES_F32 TARGET_U8 STEPS
import json
import sys

import numpy as np
import torch


def main():
    export_dir, input_path, shape_json, logits_path, probabilities_path, target_path, steps = sys.argv[1:8]
    sys.path.insert(0, export_dir)
    import model  # the exported model.py

    torch.manual_seed(0)
    net = model.load(f"{export_dir}/weights.safetensors")
    x = torch.from_numpy(np.fromfile(input_path, np.float32).reshape(json.loads(shape_json)))
    with torch.no_grad():
        logits = net(x)
        probabilities = net.probabilities(x)
    logits.contiguous().numpy().astype(np.float32).tofile(logits_path)
    probabilities.contiguous().numpy().astype(np.float32).tofile(probabilities_path)

    target = torch.from_numpy(np.fromfile(target_path, np.uint8).astype(np.int64).reshape(x.shape[0], *x.shape[2:]))
    net.train()
    optimiser = torch.optim.Adam(net.parameters(), lr=1e-3)
    losses = []
    for _ in range(int(steps)):
        optimiser.zero_grad()
        out = net(x)
        if model.HEAD == "softmax":
            loss = torch.nn.functional.cross_entropy(out, target)
        else:
            loss = torch.nn.functional.binary_cross_entropy_with_logits(out[:, 0], (target > 0).float())
        loss.backward()
        optimiser.step()
        losses.append(loss.item())
    print(json.dumps({"losses": losses, "parameters": sum(p.numel() for p in net.parameters())}))


if __name__ == "__main__":
    main()
