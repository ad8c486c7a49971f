// Runs in: the benchmark process (npm run bench:hash-cost). Writes dataset folders in the real layouts
// (Decathlon, ACDC, PROMISE12) with file sizes like the real datasets', for timing what a search start
// spends hashing them. SHA-256 costs the same whatever the bytes, so a gzipped NIfTI is stood in for by
// random bytes (gzip output is about as incompressible) and a MetaImage voxel file by smooth int16 or
// uint8 slices with noise; ACDC's 4D cines, which no search reads, are sparse files of their real size.
import { randomFillSync } from 'node:crypto';
import { closeSync, mkdirSync, openSync, truncateSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { formatMetaImageHeader } from '../../core/io/metaimage-header.ts';
import type { Vec3 } from '../../core/io/volume.ts';

export interface SyntheticDataset {
  name: string;
  /** What it imitates and how large its files are, for the printed table. */
  description: string;
  /** Labelled training cases written (the search hashes its training and validation share of them). */
  cases: number;
}

const MB = 1e6;
const POOL = Buffer.alloc(16 * 1024 * 1024);
randomFillSync(POOL);

/** Deterministic sizes and noise offsets, so every run writes the same folder. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `bytes` random-looking bytes, distinct per file: a stand-in for a gzip stream. */
function writeGzipLike(path: string, bytes: number, random: () => number): void {
  const fd = openSync(path, 'w');
  try {
    const tag = Buffer.from(`${path}\n`);
    let written = writeSync(fd, tag.subarray(0, Math.min(tag.length, bytes)));
    while (written < bytes) {
      const start = Math.floor(random() * (POOL.length / 2));
      const n = Math.min(bytes - written, POOL.length - start);
      written += writeSync(fd, POOL, start, n);
    }
  } finally {
    closeSync(fd);
  }
}

function uniform(random: () => number, lo: number, hi: number): number {
  return Math.round(lo + (hi - lo) * random());
}

/** Decathlon Task04_Hippocampus: 260 cases, images 40-95 kB and label maps 0.7-1.6 kB gzipped. */
export function writeTask04Like(root: string): SyntheticDataset {
  const random = seeded(4);
  mkdirSync(join(root, 'imagesTr'), { recursive: true });
  mkdirSync(join(root, 'labelsTr'), { recursive: true });
  const training: { image: string; label: string }[] = [];
  for (let i = 1; i <= 260; i++) {
    const name = `hippocampus_${String(i).padStart(3, '0')}.nii.gz`;
    writeGzipLike(join(root, 'imagesTr', name), uniform(random, 40_000, 95_000), random);
    writeGzipLike(join(root, 'labelsTr', name), uniform(random, 700, 1_600), random);
    training.push({ image: `./imagesTr/${name}`, label: `./labelsTr/${name}` });
  }
  const labels = { '0': 'background', '1': 'Anterior', '2': 'Posterior' };
  writeFileSync(join(root, 'dataset.json'), JSON.stringify({ name: 'Hippocampus', labels, training }));
  return {
    name: 'Task04-like',
    description: '260 cases, .nii.gz images 40-95 kB, labels 0.7-1.6 kB',
    cases: 260,
  };
}

/**
 * ACDC training: 100 patients, each a 4D cine of 30-100 MB (sparse: never hashed), Info.cfg and its ED and
 * ES frames (a frame about a thirtieth of the cine, 1-3.5 MB) with their label maps (15-40 kB).
 */
export function writeAcdcLike(root: string): SyntheticDataset {
  const random = seeded(27);
  for (let p = 1; p <= 100; p++) {
    const name = `patient${String(p).padStart(3, '0')}`;
    const folder = join(root, 'database', 'training', name);
    mkdirSync(folder, { recursive: true });
    const frames = uniform(random, 28, 35);
    const es = uniform(random, 8, 16);
    const cine = uniform(random, 30 * MB, 100 * MB);
    writeFileSync(
      join(folder, 'Info.cfg'),
      `ED: 1\nES: ${es}\nGroup: NOR\nHeight: 175.0\nNbFrame: ${frames}\nWeight: 75.0\n`,
    );
    writeFileSync(join(folder, `${name}_4d.nii.gz`), '');
    truncateSync(join(folder, `${name}_4d.nii.gz`), cine);
    for (const frame of [1, es]) {
      const stem = join(folder, `${name}_frame${String(frame).padStart(2, '0')}`);
      writeGzipLike(`${stem}.nii.gz`, Math.round(cine / frames), random);
      writeGzipLike(`${stem}_gt.nii.gz`, uniform(random, 15_000, 40_000), random);
    }
  }
  return {
    name: 'ACDC-like',
    description: '100 patients, 200 ED/ES frames 1-3.5 MB + labels, cines 30-100 MB not hashed',
    cases: 200,
  };
}

/** One MetaImage (.mhd header + .raw voxels) of `shape`: smooth slices plus noise, int16 or uint8. */
function writeMetaImage(
  folder: string,
  name: string,
  shape: Vec3,
  dataType: 'int16' | 'uint8',
  random: () => number,
): void {
  const [nx, ny, nz] = shape;
  const width = dataType === 'int16' ? 2 : 1;
  const slice = Buffer.alloc(nx * ny * width);
  const fd = openSync(join(folder, `${name}.raw`), 'w');
  try {
    for (let z = 0; z < nz; z++) {
      const noise = Math.floor(random() * (POOL.length - nx * ny));
      for (let y = 0; y < ny; y++) {
        for (let x = 0; x < nx; x++) {
          const i = y * nx + x;
          const r = Math.hypot(x - nx / 2, y - ny / 2) / nx;
          if (dataType === 'int16') {
            slice.writeInt16LE(Math.round(600 * (1 - r) + z * 3 + ((POOL[noise + i] as number) >> 3)), i * 2);
          } else slice[i] = r < 0.15 + z / (40 * nz) ? 1 : 0;
        }
      }
      writeSync(fd, slice);
    }
  } finally {
    closeSync(fd);
  }
  const header = formatMetaImageHeader({
    shape,
    spacing: [0.625, 0.625, 3.6],
    origin: [0, 0, 0],
    direction: [1, 0, 0, 0, 1, 0, 0, 0, 1],
    dataType,
    compressedSize: undefined,
    dataFile: `${name}.raw`,
  });
  writeFileSync(join(folder, `${name}.mhd`), header);
}

/**
 * PROMISE12 training data: Case00-49 over TrainingData_Part1..3, each an int16 image and a uint8
 * segmentation as .mhd/.raw pairs, 512x512 or 320x320 in-plane with 15-54 slices (images 3-28 MB).
 */
export function writePromise12Like(root: string): SyntheticDataset {
  const random = seeded(12);
  for (let c = 0; c < 50; c++) {
    const folder = join(root, `TrainingData_Part${c < 15 ? 1 : c < 30 ? 2 : 3}`);
    mkdirSync(folder, { recursive: true });
    const inPlane = random() < 0.6 ? 512 : 320;
    const shape: Vec3 = [
      inPlane,
      inPlane,
      uniform(random, inPlane === 512 ? 24 : 15, inPlane === 512 ? 54 : 30),
    ];
    const name = `Case${String(c).padStart(2, '0')}`;
    writeMetaImage(folder, name, shape, 'int16', random);
    writeMetaImage(folder, `${name}_segmentation`, shape, 'uint8', random);
  }
  return {
    name: 'PROMISE12-like',
    description: '50 cases, .mhd/.raw image (int16, 3-28 MB) + segmentation (uint8)',
    cases: 50,
  };
}

/**
 * A Decathlon task of large CT volumes (like Task03_Liver, kept to 30 cases for the disk): gzipped
 * images of 20-150 MB, so most are above the 64 MiB hashing limit, label maps 0.3-1 MB.
 */
export function writeLargeCtLike(root: string): SyntheticDataset {
  const random = seeded(3);
  mkdirSync(join(root, 'imagesTr'), { recursive: true });
  mkdirSync(join(root, 'labelsTr'), { recursive: true });
  const training: { image: string; label: string }[] = [];
  for (let i = 0; i < 30; i++) {
    const name = `liver_${i}.nii.gz`;
    writeGzipLike(join(root, 'imagesTr', name), uniform(random, 20 * MB, 150 * MB), random);
    writeGzipLike(join(root, 'labelsTr', name), uniform(random, 300_000, 1_000_000), random);
    training.push({ image: `./imagesTr/${name}`, label: `./labelsTr/${name}` });
  }
  const labels = { '0': 'background', '1': 'liver', '2': 'cancer' };
  writeFileSync(join(root, 'dataset.json'), JSON.stringify({ name: 'Liver', labels, training }));
  return {
    name: 'large-CT (Liver-like)',
    description: '30 cases, .nii.gz images 20-150 MB (most above 64 MiB), labels 0.3-1 MB',
    cases: 30,
  };
}
