// Runs in: any process. The few numbers a researcher checks first about an imported dataset: how many cases
// can train, how many are broken, and how much the image shapes and spacings vary.
import type { Vec3 } from '../io/volume.ts';
import type { CaseEntry, DatasetManifest } from './case-table.ts';

export interface Spread {
  min: Vec3;
  median: Vec3;
  max: Vec3;
}

export interface DatasetSummary {
  cases: number;
  /** ok training cases with a label map: what training can use. */
  usable: number;
  /** ok test cases (held apart, never trained on). */
  test: number;
  /** cases with at least one problem. */
  broken: number;
  /** problems over all cases plus those of the dataset as a whole. */
  problems: number;
  /** Per voxel axis, over every case whose image could be read; absent when none could. */
  shape?: Spread;
  spacing?: Spread;
}

export interface DatasetReport extends DatasetManifest {
  summary: DatasetSummary;
}

export function isUsableForTraining(entry: CaseEntry): boolean {
  return entry.ok && entry.subset === 'train' && entry.label !== undefined;
}

export function summarizeDataset(manifest: DatasetManifest): DatasetSummary {
  const { cases } = manifest;
  const summary: DatasetSummary = {
    cases: cases.length,
    usable: cases.filter(isUsableForTraining).length,
    test: cases.filter((c) => c.ok && c.subset === 'test').length,
    broken: cases.filter((c) => !c.ok).length,
    problems: manifest.problems.length + cases.reduce((n, c) => n + c.problems.length, 0),
  };
  const shape = spread(cases.map((c) => c.shape));
  const spacing = spread(cases.map((c) => c.spacing));
  if (shape) summary.shape = shape;
  if (spacing) summary.spacing = spacing;
  return summary;
}

function spread(values: (Vec3 | undefined)[]): Spread | null {
  const known = values.filter((v): v is Vec3 => v !== undefined);
  if (known.length === 0) return null;
  const axis = (a: number): number[] => known.map((v) => v[a] as number).sort((x, y) => x - y);
  const axes = [axis(0), axis(1), axis(2)];
  const pick = (f: (sorted: number[]) => number): Vec3 => [
    f(axes[0] ?? []),
    f(axes[1] ?? []),
    f(axes[2] ?? []),
  ];
  return {
    min: pick((s) => s[0] ?? NaN),
    median: pick((s) => median(s)),
    max: pick((s) => s[s.length - 1] ?? NaN),
  };
}

function median(sorted: number[]): number {
  const mid = sorted.length >> 1;
  const hi = sorted[mid] ?? NaN;
  return sorted.length % 2 === 1 ? hi : ((sorted[mid - 1] ?? NaN) + hi) / 2;
}
