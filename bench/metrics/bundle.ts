// Runs in: a plain Node process (the metrics benchmark and its tests). Reads the label maps and perturbed
// copies that reference.py prepares, and runs both sides of the comparison on them.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Vec3 } from '../../core/io/volume.ts';
import type { LabelGrid } from '../../core/metrics/grid.ts';
import { compareLabel } from '../../core/metrics/label-metrics.ts';

export const PYTHON = '/usr/bin/python3';
export const REFERENCE_SCRIPT = fileURLToPath(new URL('./reference.py', import.meta.url));

export interface BundlePair {
  case: string;
  perturbation: string;
  reference: LabelGrid;
  prediction: LabelGrid;
}

export interface Bundle {
  labels: number[];
  pairs: BundlePair[];
}

interface Manifest {
  labels: number[];
  arrays: { offset: number; length: number }[];
  pairs: {
    case: string;
    perturbation: string;
    shape: Vec3;
    spacing: Vec3;
    reference: number;
    prediction: number;
  }[];
}

export function readBundle(folder: string): Bundle {
  const manifest = JSON.parse(readFileSync(join(folder, 'manifest.json'), 'utf8')) as Manifest;
  const raw = readFileSync(join(folder, 'arrays.bin'));
  const arrays = manifest.arrays.map(
    (a) => new Uint8Array(raw.buffer, raw.byteOffset + a.offset, a.length) as Uint8Array,
  );
  const pairs = manifest.pairs.map((p) => {
    const reference = arrays[p.reference];
    const prediction = arrays[p.prediction];
    if (!reference || !prediction) throw new Error(`${folder}: manifest names an array that is not there`);
    return {
      case: p.case,
      perturbation: p.perturbation,
      reference: { data: reference, shape: p.shape, spacing: p.spacing },
      prediction: { data: prediction, shape: p.shape, spacing: p.spacing },
    };
  });
  return { labels: manifest.labels, pairs };
}

/** Stops with a message naming what to install when the Python peer cannot run the reference. */
export function requirePythonReference(): void {
  const r = spawnSync(PYTHON, ['-c', 'import numpy, scipy, nibabel'], { encoding: 'utf8' });
  if (r.status !== 0) {
    throw new Error(
      `The scipy reference needs ${PYTHON} with numpy, scipy and nibabel ` +
        `(Debian: apt-get install python3-scipy python3-nibabel): ${r.error?.message ?? r.stderr.trim()}`,
    );
  }
}

export function runReference(args: string[]): void {
  const r = spawnSync(PYTHON, [REFERENCE_SCRIPT, ...args], { encoding: 'utf8', maxBuffer: 1 << 26 });
  if (r.status !== 0) {
    throw new Error(`reference.py ${args[0]} failed: ${r.error?.message ?? r.stderr.trim()}`);
  }
}

export interface ReferenceValues {
  volumeReference: number;
  volumePrediction: number;
  dice: number;
  jaccard: number;
  sensitivity: number;
  precision: number;
  arvd: number;
  hd: number;
  hd95Pooled: number;
  hd95MaxDirected: number;
  assd: number;
  nsd: number;
}

export interface ReferenceResults {
  seconds: number;
  tau: number;
  /** One entry per bundle pair, keyed by label value. */
  results: Record<string, ReferenceValues>[];
}

export function readReferenceResults(path: string): ReferenceResults {
  return JSON.parse(readFileSync(path, 'utf8')) as ReferenceResults;
}

/** Where the shared Decathlon hippocampus data is: EMONAS_HIPPOCAMPUS, else shared/ beside the checkout. */
export function hippocampusFolder(): string {
  return (
    process.env.EMONAS_HIPPOCAMPUS ??
    fileURLToPath(new URL('../../../shared/data/Task04_Hippocampus', import.meta.url))
  );
}

/** Our value of every reference field for one pair and label, both HD95 definitions included. */
export function ourValues(pair: BundlePair, label: number, tau: number): ReferenceValues {
  const pooled = compareLabel(pair.reference, pair.prediction, label, { hd95: 'pooled', tau });
  const maxDirected = compareLabel(pair.reference, pair.prediction, label, { hd95: 'max-directed', tau });
  return {
    volumeReference: pooled.volumeReference,
    volumePrediction: pooled.volumePrediction,
    dice: pooled.dice,
    jaccard: pooled.jaccard,
    sensitivity: pooled.sensitivity,
    precision: pooled.precision,
    arvd: pooled.arvd,
    hd: pooled.hd,
    hd95Pooled: pooled.hd95,
    hd95MaxDirected: maxDirected.hd95,
    assd: pooled.assd,
    nsd: pooled.nsd,
  };
}

/** Largest absolute difference per field between our values and the reference's, over every pair. */
export function largestDifferences(bundle: Bundle, reference: ReferenceResults): Record<string, number> {
  const out: Record<string, number> = {};
  bundle.pairs.forEach((pair, index) => {
    for (const label of bundle.labels) {
      const theirs = reference.results[index]?.[String(label)];
      if (!theirs) throw new Error(`The reference has no result for pair ${index}, label ${label}`);
      const ours = ourValues(pair, label, reference.tau);
      for (const [field, value] of Object.entries(ours)) {
        const diff = Math.abs(value - theirs[field as keyof ReferenceValues]);
        out[field] = Math.max(out[field] ?? 0, Number.isNaN(diff) ? Infinity : diff);
      }
    }
  });
  return out;
}
