# Runs in: a Python process (the peer for bench/datasets, never product code). Does what `emonas dataset
# inspect` does to the Decathlon hippocampus task with nibabel + numpy: every image decompressed and its
# geometry read, every label map decoded and its distinct values listed. Prints the best of N runs in seconds.
import json
import os
import sys
import time

import nibabel as nib
import numpy as np


def inspect(folder):
    with open(os.path.join(folder, 'dataset.json')) as f:
        listing = json.load(f)
    for pair in listing['training']:
        image = nib.load(os.path.join(folder, pair['image']))
        np.asanyarray(image.dataobj)
        image.header.get_zooms()
        image.affine
        label = np.asanyarray(nib.load(os.path.join(folder, pair['label'])).dataobj)
        np.unique(label)


def main():
    folder, runs = sys.argv[1], int(sys.argv[2])
    best = float('inf')
    for _ in range(runs):
        start = time.perf_counter()
        inspect(folder)
        best = min(best, time.perf_counter() - start)
    print(json.dumps({'seconds': best}))


main()
