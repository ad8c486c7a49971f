# Runs in: a Python process (bench/hash-cost's helper, never product code). Takes the files of one dataset
# out of the page cache, so the next read comes from the disk: written back first, then dropped with
# posix_fadvise(DONTNEED). Only these files are touched, not the rest of a machine others are using.
# Reads the file list (JSON) from stdin.
import json
import os
import sys

for path in json.load(sys.stdin):
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    finally:
        os.close(fd)
