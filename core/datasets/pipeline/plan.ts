// Runs in: any process. The preprocessing plan of a dataset: computed once from the geometry of its
// labelled cases, shown to the user before training, stored with every trained model so prediction
// repeats exactly the same steps. Decisions (nnU-Net style, stated here and in the plan's notes):
// - every case is first put in the canonical LPS orientation (core/io);
// - isotropic-ish data (largest median spacing at most 3x the smallest) is resampled to the median spacing
//   on every axis; anisotropic data (ACDC's 5-10 mm slices, PROMISE12) is resampled in-plane only, the
//   thick slice axis is kept as acquired and becomes the network's third axis, the one the genome's
//   k x k x 1 kernels do not cross;
// - intensities are z-scored per case (all three datasets are MRI);
// - the patch is a multiple of 2^levels on every axis: the whole (largest) case when that fits the voxel
//   budget, else the median case rounded up and shrunk where it exceeds the median case the most.
import { createHash } from 'node:crypto';
import { EmonasError } from '../../base/errors.ts';
import type { AxisOrder, Shape3 } from './grid.ts';
import type { ReferencePromise12Plan } from './reference-promise12.ts';

export interface PlanLabel {
  value: number;
  name: string;
}

export interface PreprocessingPlan {
  format: 'emonas-plan-1';
  dataset: string;
  /** Background first; a label's class index is its position here. */
  labels: PlanLabel[];
  /** Sigmoid for one foreground class (the reference's head), softmax over all classes otherwise. */
  head: 'softmax' | 'sigmoid';
  /** Canonical volume axes (0 = i, 1 = j, 2 = k) in network order; the last one is the slice axis. */
  axisOrder: AxisOrder;
  /** Target spacing in mm per network axis; null keeps each case's own spacing on that axis. */
  targetSpacing: [number | null, number | null, number | null];
  normalisation: 'zscore-per-case';
  /** Patch and padded sizes are multiples of this (2^levels of the deepest network allowed). */
  divisor: number;
  /** After resampling, network order. */
  medianShape: Shape3;
  maxShape: Shape3;
  patch: Shape3;
  cases: number;
  notes: string[];
  /**
   * The 'reference' training protocol's PROMISE12 preprocessing (protocol-plan.ts), which replaces the
   * resampling and normalisation above; absent otherwise.
   */
  reference?: ReferencePromise12Plan;
}

/** Geometry of one case in the canonical orientation (volume axis order i, j, k). */
export interface CaseGeometry {
  shape: Shape3;
  spacing: Shape3;
}

export interface PlanOptions {
  dataset: string;
  labels: Record<number, string>;
  /** Pooling levels of the deepest network the plan must serve: 4 for 9-cell genomes. */
  levels?: number;
  /** Patches above this many voxels are shrunk; sized for CPU training. */
  maxPatchVoxels?: number;
}

export const DEFAULT_LEVELS = 4;
/**
 * Sized for CPU training: a 32 x 48 x 32 hippocampus patch trains about 3x faster than the whole-case
 * 48 x 64 x 48 and still sees most of a case; inference then takes each case whole (core/train/inference).
 */
export const DEFAULT_MAX_PATCH_VOXELS = 32 * 48 * 32;
const ANISOTROPY_RATIO = 3;
/** Spacings this close to the target are not resampled: interpolation would only blur. */
const SPACING_TOLERANCE = 0.01;

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
}

function roundUp(value: number, divisor: number): number {
  return Math.max(divisor, Math.ceil(value / divisor) * divisor);
}

export function computePlan(cases: readonly CaseGeometry[], options: PlanOptions): PreprocessingPlan {
  if (cases.length === 0) {
    throw new EmonasError(
      'invalid_dataset',
      `The dataset ${options.dataset} has no usable labelled case to plan from.`,
    );
  }
  const labels = Object.entries(options.labels)
    .map(([value, name]) => ({ value: Number(value), name }))
    .sort((a, b) => a.value - b.value);
  if (labels.length < 2 || labels[0]?.value !== 0) {
    throw new EmonasError(
      'invalid_dataset',
      `The dataset ${options.dataset} must declare background as label 0 and at least one foreground label.`,
    );
  }
  const outOfRange = labels.filter((l) => !Number.isInteger(l.value) || l.value < 0 || l.value > 255);
  if (outOfRange.length > 0) {
    throw new EmonasError(
      'invalid_dataset',
      `The dataset ${options.dataset} declares label values ${outOfRange.map((l) => l.value).join(', ')}; label values must be whole numbers from 0 to 255.`,
    );
  }
  const levels = options.levels ?? DEFAULT_LEVELS;
  const divisor = 2 ** levels;
  const maxVoxels = options.maxPatchVoxels ?? DEFAULT_MAX_PATCH_VOXELS;
  const notes: string[] = ['Orientation: every case is put in the canonical LPS orientation first.'];

  const medianSpacing = [0, 1, 2].map((a) => median(cases.map((c) => c.spacing[a] as number))) as Shape3;
  const largest = medianSpacing.indexOf(Math.max(...medianSpacing));
  const anisotropic = Math.max(...medianSpacing) > ANISOTROPY_RATIO * Math.min(...medianSpacing);
  const axisOrder: AxisOrder = anisotropic
    ? ([...[0, 1, 2].filter((a) => a !== largest), largest] as AxisOrder)
    : [0, 1, 2];
  const targetSpacing = axisOrder.map((a, d) =>
    anisotropic && d === 2 ? null : (medianSpacing[a] as number),
  ) as PreprocessingPlan['targetSpacing'];
  if (anisotropic) {
    notes.push(
      `Anisotropic data: in-plane resampled to the median spacing ${fmt(targetSpacing[0])} x ${fmt(targetSpacing[1])} mm; ` +
        `the slice axis (median ${fmt(medianSpacing[largest])} mm) is kept as acquired and is the network's third axis.`,
    );
  } else {
    notes.push(
      `Resampled to the median spacing ${targetSpacing.map(fmt).join(' x ')} mm (cases already there are not touched).`,
    );
  }
  notes.push('Intensities: z-score per case.');

  const shapes = cases.map((c) => resampledShape(c, axisOrder, targetSpacing));
  const medianShape = [0, 1, 2].map((d) => median(shapes.map((s) => s[d] as number))) as Shape3;
  const maxShape = [0, 1, 2].map((d) => Math.max(...shapes.map((s) => s[d] as number))) as Shape3;
  const patch = choosePatch(maxShape, medianShape, divisor, maxVoxels);
  return {
    format: 'emonas-plan-1',
    dataset: options.dataset,
    labels,
    head: labels.length === 2 ? 'sigmoid' : 'softmax',
    axisOrder,
    targetSpacing,
    normalisation: 'zscore-per-case',
    divisor,
    medianShape,
    maxShape,
    patch,
    cases: cases.length,
    notes,
  };
}

function fmt(v: number | null | undefined): string {
  return v === null || v === undefined ? 'kept' : String(Math.round(v * 1000) / 1000);
}

/** The grid shape (network order) a case has after the plan's resampling. */
export function resampledShape(
  c: CaseGeometry,
  axisOrder: AxisOrder,
  targetSpacing: PreprocessingPlan['targetSpacing'],
): Shape3 {
  return axisOrder.map((a, d) => {
    const n = c.shape[a] as number;
    const target = targetSpacing[d];
    const spacing = c.spacing[a] as number;
    if (target === null || target === undefined || Math.abs(spacing - target) <= SPACING_TOLERANCE * target)
      return n;
    return Math.max(1, Math.round((n * spacing) / target));
  }) as Shape3;
}

/** nnU-Net's rule: shrink, one multiple at a time, the side that exceeds the median case the most. */
function choosePatch(maxShape: Shape3, medianShape: Shape3, divisor: number, maxVoxels: number): Shape3 {
  const whole = maxShape.map((n) => roundUp(n, divisor)) as Shape3;
  if (whole[0] * whole[1] * whole[2] <= maxVoxels) return whole;
  const patch = medianShape.map((n) => roundUp(n, divisor)) as Shape3;
  const excess = (d: number): number => (patch[d] as number) / (medianShape[d] as number);
  while (patch[0] * patch[1] * patch[2] > maxVoxels) {
    const shrinkable = [0, 1, 2].filter((d) => (patch[d] as number) > divisor);
    if (shrinkable.length === 0) break;
    const d = shrinkable.reduce((best, x) => (excess(x) > excess(best) ? x : best));
    patch[d] = (patch[d] as number) - divisor;
  }
  return patch;
}

/** What the cache depends on: a plan differing only in patch or notes reuses the same preprocessed cases. */
export function planKey(plan: PreprocessingPlan): string {
  const relevant = {
    format: plan.format,
    labels: plan.labels,
    axisOrder: plan.axisOrder,
    targetSpacing: plan.targetSpacing,
    normalisation: plan.normalisation,
    ...(plan.reference && { reference: plan.reference }),
  };
  return createHash('sha256').update(JSON.stringify(relevant)).digest('hex').slice(0, 16);
}

/** The plan as lines for a terminal, shown before training starts. */
export function describePlan(plan: PreprocessingPlan): string[] {
  return [
    `Preprocessing plan for ${plan.dataset} (${plan.cases} cases):`,
    `  labels: ${plan.labels.map((l) => `${l.value} ${l.name}`).join(', ')}; head ${plan.head}`,
    `  median shape ${plan.medianShape.join(' x ')}, largest ${plan.maxShape.join(' x ')} (network axis order)`,
    ...plan.notes.map((n) => `  ${n}`),
    plan.reference
      ? `  Slab ${plan.patch.join(' x ')}; predicted by slab windows one slice apart, as the reference protocol does.`
      : `  Patch ${plan.patch.join(' x ')}; a case up to 3x its size is predicted whole, a larger one by overlapping windows.`,
  ];
}
