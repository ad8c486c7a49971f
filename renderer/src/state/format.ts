// Runs in: the renderer. How numbers and names of the contract read on screen.
import type { DatasetKind, Spread, Vec3 } from '../../../core/api/datasets.ts';

export const KIND_NAMES: Record<DatasetKind, string> = {
  msd: 'Medical Segmentation Decathlon task',
  acdc: 'ACDC cardiac MRI',
  promise12: 'PROMISE12 prostate MRI',
};

function trim(value: number): string {
  return Number.isInteger(value) ? String(value) : value.toFixed(2).replace(/0+$/, '').replace(/\.$/, '');
}

export function vec(v: Vec3 | undefined, unit = ''): string {
  if (!v) return '–';
  return v.map(trim).join(' × ') + unit;
}

/** "31–43 × 40–59 × 24–47", or a single value per axis where all cases agree. */
export function spread(s: Spread | undefined, unit = ''): string {
  if (!s) return 'unknown (no image could be read)';
  const axis = (i: 0 | 1 | 2) =>
    s.min[i] === s.max[i] ? trim(s.min[i]) : `${trim(s.min[i])}–${trim(s.max[i])}`;
  return `${axis(0)} × ${axis(1)} × ${axis(2)}${unit}`;
}

export function labelList(labels: Record<number, string>): string {
  return Object.entries(labels)
    .sort(([a], [b]) => Number(a) - Number(b))
    .map(([value, name]) => `${value} ${name}`)
    .join(', ');
}

export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

export function date(iso: string): string {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleString();
}
