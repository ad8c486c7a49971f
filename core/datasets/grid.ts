// Runs in: any process. Whether an image and its label map lie on the same voxel grid, with tolerances wide
// enough for the float32 rounding of headers written by different tools and tight enough that a label map
// visibly off its image never passes.
import type { Mat3, Vec3 } from '../io/volume.ts';

export interface Grid {
  shape: Vec3;
  spacing: Vec3;
  origin: Vec3;
  direction: Mat3;
}

/** Spacings may differ by this fraction of the image spacing (0.1 %). */
export const SPACING_TOLERANCE = 1e-3;
/** Origins may differ by this fraction of the smallest image spacing (1 % of a voxel). */
export const ORIGIN_TOLERANCE = 1e-2;
/** Direction cosines may differ by this much (about 0.06 degrees). */
export const DIRECTION_TOLERANCE = 1e-3;

/** One phrase per way the label grid differs from the image grid; empty when they match. */
export function gridDifferences(image: Grid, label: Grid): string[] {
  const out: string[] = [];
  if (!image.shape.every((n, i) => n === label.shape[i])) {
    out.push(`shape ${fmt(label.shape)} instead of the image's ${fmt(image.shape)}`);
  }
  if (
    !image.spacing.every((s, i) => Math.abs(s - (label.spacing[i] ?? NaN)) <= SPACING_TOLERANCE * Math.abs(s))
  ) {
    out.push(
      `spacing ${fmt(label.spacing)} mm instead of the image's ${fmt(image.spacing)} mm (tolerance ${SPACING_TOLERANCE * 100} %)`,
    );
  }
  const minSpacing = Math.min(...image.spacing.map(Math.abs));
  const originTolerance = ORIGIN_TOLERANCE * minSpacing;
  if (!image.origin.every((o, i) => Math.abs(o - (label.origin[i] ?? NaN)) <= originTolerance)) {
    out.push(
      `origin (${list(label.origin)}) mm instead of the image's (${list(image.origin)}) mm (tolerance ${round(originTolerance)} mm)`,
    );
  }
  if (!image.direction.every((d, i) => Math.abs(d - (label.direction[i] ?? NaN)) <= DIRECTION_TOLERANCE)) {
    out.push(
      `direction (${list(label.direction)}) instead of the image's (${list(image.direction)}) (tolerance ${DIRECTION_TOLERANCE})`,
    );
  }
  return out;
}

function round(v: number): string {
  return String(Math.round(v * 1e4) / 1e4);
}

function fmt(values: readonly number[]): string {
  return values.map(round).join(' x ');
}

function list(values: readonly number[]): string {
  return values.map(round).join(', ');
}
