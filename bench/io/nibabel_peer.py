# Runs in: /usr/bin/python3 (nibabel 5, numpy), started by bench/io/read-volumes.ts. The nibabel side of the
# "Reading volumes" benchmark: the same reads, timed the same way (best of N), printed as one JSON line.
# With --make-large PATH it instead writes the large synthetic file the benchmark reads.
import gzip
import json
import struct
import sys
import time

import nibabel as nib
import numpy as np


def make_large(path):
    rng = np.random.default_rng(7)
    stored = rng.integers(-1000, 3000, size=(256, 256, 128)).astype(np.int16)
    # A smooth field with noise compresses like a scan, unlike pure noise.
    z = np.linspace(0, 1, 128)[None, None, :]
    stored = (stored // 8 + (z * 2000)).astype(np.int16)
    t = np.deg2rad(12)
    rotation = np.array([[1, 0, 0], [0, np.cos(t), -np.sin(t)], [0, np.sin(t), np.cos(t)]])
    affine = np.eye(4)
    # Third axis flipped: a left-handed grid, stored with qfac = -1.
    affine[:3, :3] = rotation @ np.diag([0.9, 0.9, -1.5])
    affine[:3, 3] = [-115, -120, 90]
    img = nib.Nifti1Image(stored, affine)
    img.set_qform(affine, code=1)
    raw = bytearray(img.header.binaryblock) + bytearray(4) + stored.tobytes(order='F')
    # nibabel recomputes scaling on save, so scl_slope / scl_inter are set in the bytes.
    struct.pack_into('<ff', raw, 112, 0.5, -10.0)
    struct.pack_into('<f', raw, 108, 352.0)
    with gzip.open(path, 'wb', compresslevel=6) as f:
        f.write(raw)


def best_of(repeats, fn):
    best = float('inf')
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best * 1000


def main():
    if sys.argv[1] == '--make-large':
        make_large(sys.argv[2])
        return
    repeats, large, files = int(sys.argv[1]), sys.argv[2], sys.argv[3:]

    def headers():
        for f in files:
            nib.load(f).header.get_zooms()

    def native():
        for f in files:
            np.asanyarray(nib.load(f).dataobj)

    def fdata():
        for f in files:
            nib.load(f).get_fdata()

    out = {
        'headers': best_of(repeats, headers),
        'native': best_of(repeats, native),
        'fdata': best_of(repeats, fdata),
        'large_native': best_of(repeats, lambda: np.asanyarray(nib.load(large).dataobj)),
        'large_fdata': best_of(repeats, lambda: nib.load(large).get_fdata()),
    }
    print(json.dumps(out))


main()
