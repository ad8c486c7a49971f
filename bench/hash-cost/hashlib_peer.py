# Runs in: a Python process (the peer for bench/hash-cost, never product code). Does what a search start
# does to record the dataset in run.json with hashlib: each file's size and SHA-256, a file above the limit
# hashed over its first `limit` bytes, read in 1 MiB chunks, one file after the other. Reads the file list
# (JSON) from stdin; times each of N runs inside Python and prints the times and the hashes as JSON.
import hashlib
import json
import os
import sys
import time

CHUNK = 1 << 20


def describe(path, limit, buffer):
    size = os.stat(path).st_size
    left = min(size, limit)
    digest = hashlib.sha256()
    view = memoryview(buffer)
    with open(path, 'rb', buffering=0) as f:
        while left > 0:
            n = f.readinto(view[: min(CHUNK, left)])
            if n == 0:
                raise OSError(f'{path} ended before its stated size')
            digest.update(view[:n])
            left -= n
    return size, digest.hexdigest()


def main():
    limit, runs = int(sys.argv[1]), int(sys.argv[2])
    files = json.load(sys.stdin)
    buffer = bytearray(CHUNK)
    seconds = []
    for _ in range(runs):
        start = time.perf_counter()
        described = [describe(path, limit, buffer) for path in files]
        seconds.append(time.perf_counter() - start)
    json.dump({'seconds': seconds, 'sha256': [h for _, h in described]}, sys.stdout)


main()
