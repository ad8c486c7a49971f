// Runs in: a training worker (and any process that tests it). The reference protocol's training input
// (method.md section 5.3): a uniformly placed slab (no foreground oversampling), then one in-plane affine
// for all its slices, as the reference's port of Keras' ImageDataGenerator draws and applies it: rotation
// U(-90, 90) degrees, a shift of U(-0.4, 0.4) of the slab's side on each in-plane axis, an isotropic zoom
// U(0.5, 1.5), composed as rotation . shift . zoom about the Keras centre (side / 2 + 0.5), used as the
// inverse map (output -> input) with `nearest` edge fill inside the slab, then a left-right flip with p 0.5.
// The masks go through the same interpolation and are never re-binarised, so the targets are soft, as the
// reference's are; unlike the reference's cubic spline (order 3), both image and masks are interpolated
// bilinearly (order 1): the soft targets stay within [0, 1] instead of overshooting them (method.md
// section 9 item 11), and a cubic spline per slice would cost a CPU training several times as much.
import type { RandomStream } from '../../base/random.ts';
import { gridSize, type Grid, type Shape3 } from './grid.ts';
import type { Patch } from './patch.ts';
import type { PreparedCase } from './prepared-case.ts';
import { chooseStart } from './sampling.ts';

export interface SlabAugmentation {
  /** In-plane rotation ~ U(-rotationDegrees, rotationDegrees). */
  rotationDegrees: number;
  /** Shift ~ U(-shiftFraction, shiftFraction) x the slab's side, on each in-plane axis independently. */
  shiftFraction: number;
  /** Isotropic zoom ~ U(min, max), Keras' sense: the inverse map's scale, so above 1 the anatomy shrinks. */
  zoom: [number, number];
  /** Probability of mirroring along network axis d1 (left-right in the canonical grid). */
  flipProbability: number;
}

/** method.md section 5.3. */
export const REFERENCE_SLAB_AUGMENTATION: SlabAugmentation = {
  rotationDegrees: 90,
  shiftFraction: 0.4,
  zoom: [0.5, 1.5],
  flipProbability: 0.5,
};

export interface SlabTransform {
  /** Grid index of the slab's first voxel. */
  start: Shape3;
  /** Radians. */
  angle: number;
  /** Voxels, along d1 and d2. */
  shift: [number, number];
  zoom: number;
  flip: boolean;
}

function uniform(rng: RandomStream, lo: number, hi: number): number {
  return lo + (hi - lo) * rng.next();
}

export function drawSlabTransform(
  rng: RandomStream,
  start: Shape3,
  slab: Shape3,
  a: SlabAugmentation,
): SlabTransform {
  const degrees = uniform(rng, -a.rotationDegrees, a.rotationDegrees);
  const shift: [number, number] = [
    uniform(rng, -a.shiftFraction, a.shiftFraction) * slab[0],
    uniform(rng, -a.shiftFraction, a.shiftFraction) * slab[1],
  ];
  const zoom = uniform(rng, a.zoom[0], a.zoom[1]);
  const flip = rng.next() < a.flipProbability;
  return { start, angle: (degrees * Math.PI) / 180, shift, zoom, flip };
}

/** Where output row `a`, column `b` of a slab reads from, in slab coordinates (before edge fill). */
export function inverseMap(slab: Shape3, t: SlabTransform, a: number, b: number): [number, number] {
  const o0 = slab[0] / 2 + 0.5;
  const o1 = slab[1] / 2 + 0.5;
  const cos = Math.cos(t.angle);
  const sin = Math.sin(t.angle);
  // input = o + R (Z (output - o) + shift)
  const x = t.zoom * (a - o0) + t.shift[0];
  const y = t.zoom * (b - o1) + t.shift[1];
  return [o0 + cos * x - sin * y, o1 + sin * x + cos * y];
}

/**
 * The slab with its transform applied: the image, and soft class targets (voxel-major, `classes` per
 * voxel, background first) in `target`. Outside the case the image is 0 and the target background.
 */
export function extractSlab(c: PreparedCase, classes: number, slab: Shape3, t: SlabTransform): Patch {
  const v = gridSize(slab);
  const image = new Float32Array(v);
  const target = new Float32Array(v * classes);
  const [p0, p1, p2] = slab;
  for (let a = 0; a < p0; a++) {
    // The flip mirrors the transformed slab, as the reference flips after the affine.
    const sourceA = t.flip ? p0 - 1 - a : a;
    for (let b = 0; b < p1; b++) {
      const [u, w] = inverseMap(slab, t, sourceA, b);
      // `nearest` edge fill: coordinates outside the slab take its border.
      const cu = Math.min(p0 - 1, Math.max(0, u));
      const cw = Math.min(p1 - 1, Math.max(0, w));
      const i0 = Math.floor(cu);
      const j0 = Math.floor(cw);
      const fu = cu - i0;
      const fw = cw - j0;
      const outRow = (a * p1 + b) * p2;
      for (let corner = 0; corner < 4; corner++) {
        const i = Math.min(p0 - 1, i0 + (corner >> 1));
        const j = Math.min(p1 - 1, j0 + (corner & 1));
        const weight = (corner >> 1 ? fu : 1 - fu) * (corner & 1 ? fw : 1 - fw);
        if (weight === 0) continue;
        addSource(c.image, c.label, t.start[0] + i, t.start[1] + j, t.start[2], p2, weight, outRow, {
          image,
          target,
          classes,
        });
      }
    }
  }
  return { image, label: undefined, target };
}

function addSource(
  image: Grid,
  label: Grid<Uint8Array>,
  i: number,
  j: number,
  c0: number,
  slices: number,
  weight: number,
  outRow: number,
  out: { image: Float32Array; target: Float32Array; classes: number },
): void {
  const [n0, n1, n2] = image.shape;
  const inside = i >= 0 && i < n0 && j >= 0 && j < n1;
  for (let c = 0; c < slices; c++) {
    const k = c0 + c;
    const at = outRow + c;
    if (!inside || k < 0 || k >= n2) {
      out.target[at * out.classes] = (out.target[at * out.classes] as number) + weight;
      continue;
    }
    const source = (i * n1 + j) * n2 + k;
    out.image[at] = (out.image[at] as number) + weight * (image.data[source] as number);
    const cls = label.data[source] as number;
    out.target[at * out.classes + cls] = (out.target[at * out.classes + cls] as number) + weight;
  }
}

/** One training slab: uniformly placed in the case (no foreground oversampling), then augmented. */
export function sampleSlab(
  c: PreparedCase,
  classes: number,
  rng: RandomStream,
  slab: Shape3,
  augmentation: SlabAugmentation,
): Patch {
  const start = chooseStart(c.image.shape, slab, rng, [], false);
  return extractSlab(c, classes, slab, drawSlabTransform(rng, start, slab, augmentation));
}
