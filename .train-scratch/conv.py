# Scratch convergence experiment: how many steps does the small genome need on hippocampus?
import sys, json, time, glob, os, importlib.util
import numpy as np, nibabel as nib, torch, torch.nn.functional as F
spec = importlib.util.spec_from_file_location("ts", "/work/main/bench/cpu-train/torch_step.py")
ts = importlib.util.module_from_spec(spec); spec.loader.exec_module(ts)
torch.set_num_threads(int(os.environ.get('THREADS', '2')))
P = tuple(int(v) for v in sys.argv[1].split(','))
steps_total = int(sys.argv[2]); lr = float(sys.argv[3]) if len(sys.argv) > 3 else 4e-4
root = '/work/shared/data/Task04_Hippocampus'
files = sorted(glob.glob(root + '/imagesTr/*.nii.gz'))
cases = []
for f in files:
    im = nib.load(f).get_fdata().astype(np.float32); im = (im - im.mean()) / (im.std() + 1e-8)
    lb = np.asarray(nib.load(f.replace('imagesTr', 'labelsTr')).dataobj).astype(np.int64)
    cases.append((im, lb))
rng = np.random.RandomState(0); idx = rng.permutation(len(cases))
val = [cases[i] for i in idx[:20]]; train = [cases[i] for i in idx[40:]]
class A: pass
a = A(); a.network = 'emonas'; a.spec = '{}'
genome = {"filters": 8, "cells": 5, "inputs": [0, 1, 1], "ops": ["conv3d_3x3x3", "convP3d_3x3", "convP3d_3x3", "conv2d_5x5"]}
# build the Emonas class via the module's closure: replicate quickly
import types
src = open('/work/main/bench/cpu-train/torch_step.py').read()
torch.manual_seed(0)
def get_model():
    ns = {}
    # Extract Emonas by calling build() internals is awkward; re-exec the classes.
    code = src.split('def build(args):')[1].split('    def soft_dice_loss')[0]
    code = '\n'.join(l[4:] for l in code.split('\n'))
    exec('import torch\nimport torch.nn as nn\nimport torch.nn.functional as F\nOPS=' + repr(ts.OPS) + '\n' + code, ns)
    return ns['Emonas'](genome, 3)
model = get_model()
opt = torch.optim.Adam(model.parameters(), lr=lr)
def place(im, lb, P, rs, train=True):
    out_i = np.zeros(P, np.float32); out_l = np.zeros(P, np.int64)
    src, dst = [], []
    for n, m in zip(im.shape, P):
        if n <= m:
            off = rs.randint(0, m - n + 1) if train else (m - n) // 2
            src.append(slice(0, n)); dst.append(slice(off, off + n))
        else:
            s = rs.randint(0, n - m + 1) if train else (n - m) // 2
            src.append(slice(s, s + m)); dst.append(slice(0, m))
    out_i[tuple(dst)] = im[tuple(src)]; out_l[tuple(dst)] = lb[tuple(src)]
    if train and rs.rand() < 0.5:
        out_i = out_i[::-1].copy(); out_l = out_l[::-1].copy()
    return out_i, out_l
def dice_loss(onehot, p):
    dims = (0, 2, 3, 4); inter = (onehot * p).sum(dims)
    d = (2 * inter + 0.5) / ((onehot * onehot).sum(dims) + (p * p).sum(dims) + 0.5)
    return 1 - d[1:].mean()
rs = np.random.RandomState(1)
t0 = time.time(); order = []
for step in range(1, steps_total + 1):
    xs, ys = [], []
    for b in range(2):
        if not order: order = list(rs.permutation(len(train)))
        im, lb = train[order.pop()]
        i, l = place(im, lb, P, rs); xs.append(i); ys.append(l)
    x = torch.from_numpy(np.stack(xs))[:, None]; y = F.one_hot(torch.from_numpy(np.stack(ys)), 3).permute(0, 4, 1, 2, 3).float()
    opt.zero_grad(); loss = dice_loss(y, model(x)); loss.backward(); opt.step()
    if step % 50 == 0:
        with torch.no_grad():
            ds = []
            for im, lb in val:
                W = tuple(max(P[d], ((im.shape[d] + 3) // 4) * 4) for d in range(3))
                i, l = place(im, lb, W, rs, train=False)
                pr = model(torch.from_numpy(i)[None, None]).argmax(1)[0].numpy()
                dd = []
                for c in (1, 2):
                    a_, b_ = pr == c, l == c
                    dd.append(2 * (a_ & b_).sum() / max(1, a_.sum() + b_.sum()))
                ds.append(dd)
        print(step, round(time.time() - t0), 'loss', round(float(loss), 3), 'val dice', np.round(np.mean(ds, 0), 3), flush=True)
