// Runs in: any process. The PROMISE12 report: Dice, 95 % Hausdorff distance, average boundary distance
// and absolute relative volume difference for the whole gland and for its apex and base.
import type { Mat3, Vec3 } from '../io/volume.ts';
import { summarise, type Summary } from './aggregate.ts';
import type { LabelGrid } from './grid.ts';
import { compareMasks, type LabelMetrics, type MetricOptions } from './label-metrics.ts';

export type Promise12Region = 'whole' | 'apex' | 'base';
export const PROMISE12_REGIONS: Promise12Region[] = ['whole', 'apex', 'base'];

export const PROMISE12_REGION_DEFINITION =
  "The gland is every non-zero voxel. The slice axis is the voxel axis closest to the patient's " +
  'inferior-superior direction. On the ground truth, take the slices holding gland, N of them; with ' +
  't = max(1, round(N/3)), the apex is the t most inferior of these slices and the base the t most ' +
  'superior. Apex and base metrics compare ground truth and prediction both restricted to those slices ' +
  '(so the cut faces count as surface). With an empty ground truth, apex and base are the whole image.';

export interface SlabRange {
  axis: 0 | 1 | 2;
  /** Inclusive slice index ranges along the axis. */
  apex: [number, number];
  base: [number, number];
}

/** The axis whose direction has the largest inferior-superior (LPS z) component. */
export function sliceAxis(direction: Mat3): 0 | 1 | 2 {
  const z = [Math.abs(direction[6]), Math.abs(direction[7]), Math.abs(direction[8])];
  if (z[0]! >= z[1]! && z[0]! >= z[2]!) return 0;
  return z[1]! >= z[2]! ? 1 : 2;
}

/** Apex and base slabs from the ground truth's slice extent; undefined when the gland is absent. */
export function apexAndBase(reference: Uint8Array, shape: Vec3, direction: Mat3): SlabRange | undefined {
  const axis = sliceAxis(direction);
  const [nx, ny] = shape;
  let lo = Infinity;
  let hi = -Infinity;
  for (let n = 0; n < reference.length; n++) {
    if (reference[n] === 0) continue;
    const index = axis === 0 ? n % nx : axis === 1 ? Math.floor(n / nx) % ny : Math.floor(n / (nx * ny));
    if (index < lo) lo = index;
    if (index > hi) hi = index;
  }
  if (hi < lo) return undefined;
  const t = Math.max(1, Math.round((hi - lo + 1) / 3));
  const low: [number, number] = [lo, lo + t - 1];
  const high: [number, number] = [hi - t + 1, hi];
  const superiorUp = direction[6 + axis]! > 0;
  return { axis, apex: superiorUp ? low : high, base: superiorUp ? high : low };
}

function restrictToSlab(mask: Uint8Array, shape: Vec3, axis: 0 | 1 | 2, range: [number, number]): Uint8Array {
  const [nx, ny] = shape;
  const out = new Uint8Array(mask.length);
  for (let n = 0; n < mask.length; n++) {
    if (mask[n] === 0) continue;
    const index = axis === 0 ? n % nx : axis === 1 ? Math.floor(n / nx) % ny : Math.floor(n / (nx * ny));
    if (index >= range[0] && index <= range[1]) out[n] = 1;
  }
  return out;
}

function glandMask(data: ArrayLike<number>): Uint8Array {
  const mask = new Uint8Array(data.length);
  for (let n = 0; n < data.length; n++) if (data[n] !== 0) mask[n] = 1;
  return mask;
}

/** Metrics of the whole gland, apex and base of one case. */
export function promise12Regions(
  reference: LabelGrid & { direction: Mat3 },
  prediction: Pick<LabelGrid, 'data'>,
  options: MetricOptions,
): Record<Promise12Region, LabelMetrics> {
  const ref = glandMask(reference.data);
  const pred = glandMask(prediction.data);
  const whole = compareMasks(ref, pred, reference, options);
  const slabs = apexAndBase(ref, reference.shape, reference.direction);
  if (!slabs) return { whole, apex: whole, base: whole };
  const region = (range: [number, number]) =>
    compareMasks(
      restrictToSlab(ref, reference.shape, slabs.axis, range),
      restrictToSlab(pred, reference.shape, slabs.axis, range),
      reference,
      options,
    );
  return { whole, apex: region(slabs.apex), base: region(slabs.base) };
}

export interface Promise12RegionSummary {
  dice: Summary;
  hd95: Summary;
  /** Average boundary distance: the average symmetric surface distance, mm. */
  abd: Summary;
  /** Absolute relative volume difference, %. */
  arvd: Summary;
}

export interface Promise12Report {
  regionDefinition: string;
  perCase: { id: string; regions: Record<Promise12Region, LabelMetrics> }[];
  summary: Record<Promise12Region, Promise12RegionSummary>;
}

export function promise12Report(
  cases: readonly { id: string; regions: Record<Promise12Region, LabelMetrics> }[],
): Promise12Report {
  const summary = {} as Record<Promise12Region, Promise12RegionSummary>;
  for (const region of PROMISE12_REGIONS) {
    const rows = cases.map((c) => c.regions[region]);
    summary[region] = {
      dice: summarise(rows.map((r) => r.dice)),
      hd95: summarise(rows.map((r) => r.hd95)),
      abd: summarise(rows.map((r) => r.assd)),
      arvd: summarise(rows.map((r) => r.arvd)),
    };
  }
  return { regionDefinition: PROMISE12_REGION_DEFINITION, perCase: [...cases], summary };
}
