// Runs in: any process. The fixed label tables of ACDC and PROMISE12, and what a label map's voxels hold:
// the values present, whether they are whole numbers, and the same map as a compact integer array.
import { EmonasError } from '../base/errors.ts';
import type { Volume, VoxelArray } from '../io/volume.ts';

/** ACDC (Bernard et al. 2018): 1 right-ventricle cavity, 2 left-ventricle myocardium, 3 left-ventricle cavity. */
export const ACDC_LABELS: Record<number, string> = { 0: 'background', 1: 'RV', 2: 'Myo', 3: 'LV' };

/** PROMISE12 (Litjens et al. 2014): the whole prostate gland. */
export const PROMISE12_LABELS: Record<number, string> = { 0: 'background', 1: 'prostate' };

export interface LabelValues {
  /** Distinct whole-number values present, ascending. */
  values: number[];
  /** Voxels whose value is not a whole number (NaN included). */
  nonIntegerCount: number;
  /** A few of those values, to quote in a message. */
  nonIntegerExamples: number[];
}

const EXAMPLES = 5;

export function scanLabelValues(data: VoxelArray): LabelValues {
  if (data instanceof Uint8Array) return scanBytes(data);
  const seen = new Set<number>();
  const odd = new Set<number>();
  let nonIntegerCount = 0;
  // Label maps are long runs of one value: remembering the last value skips nearly every Set lookup.
  let last = Number.NaN;
  for (let i = 0; i < data.length; i++) {
    const v = data[i] as number;
    if (v === last) continue;
    if (Number.isInteger(v)) {
      last = v;
      seen.add(v);
    } else {
      last = Number.NaN;
      nonIntegerCount++;
      if (odd.size < EXAMPLES) odd.add(v);
    }
  }
  return {
    values: [...seen].sort((a, b) => a - b),
    nonIntegerCount,
    nonIntegerExamples: [...odd],
  };
}

function scanBytes(data: Uint8Array): LabelValues {
  const counts = new Uint32Array(256);
  for (let i = 0; i < data.length; i++) (counts[data[i] as number] as number)++;
  const values: number[] = [];
  for (let v = 0; v < 256; v++) if ((counts[v] as number) > 0) values.push(v);
  return { values, nonIntegerCount: 0, nonIntegerExamples: [] };
}

/**
 * The label map with its voxels in the smallest integer array that holds them (Uint8Array when every value
 * fits in 0..255), whatever type the file stored them as (some Decathlon label maps are float32).
 */
export function toIntegerLabels(label: Volume, file: string): Volume {
  if (label.data instanceof Uint8Array) return label;
  const scan = scanLabelValues(label.data);
  if (scan.nonIntegerCount > 0) {
    throw new EmonasError(
      'invalid_dataset',
      `The label map ${file} holds ${scan.nonIntegerCount} voxels that are not whole numbers (e.g. ${formatValues(scan.nonIntegerExamples)}); a label map must hold class numbers only.`,
      { file },
    );
  }
  const min = scan.values[0] ?? 0;
  const max = scan.values[scan.values.length - 1] ?? 0;
  let data: VoxelArray;
  if (min >= 0 && max <= 0xff) data = Uint8Array.from(label.data);
  else if (min >= 0 && max <= 0xffff) data = Uint16Array.from(label.data);
  else if (min >= -0x8000 && max <= 0x7fff) data = Int16Array.from(label.data);
  else if (min >= -0x80000000 && max <= 0x7fffffff) data = Int32Array.from(label.data);
  else {
    throw new EmonasError(
      'invalid_dataset',
      `The label map ${file} holds values up to ${max}, beyond any class number; check that it is a label map and not an image.`,
      { file },
    );
  }
  return { ...label, data };
}

export function formatValues(values: readonly number[]): string {
  return values.map((v) => (Number.isNaN(v) ? 'NaN' : String(v))).join(', ');
}
