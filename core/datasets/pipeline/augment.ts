// Runs in: a training worker. The augmentation settings and the random draws that turn them into one
// patch's transform. Milder than the reference (rotation +-90 degrees, zoom 0.5-1.5, shifts of 40 %),
// nnU-Net-like in strength: a short CPU training cannot afford to learn the reference's extreme
// variations, and hard label maps are kept (method.md section 9 item 11).
import type { RandomStream } from '../../base/random.ts';
import type { Shape3 } from './grid.ts';
import type { PatchTransform } from './patch.ts';

export interface AugmentationSettings {
  /** Network axes mirrored, each with probability 0.5 (d1 is left-right in the canonical LPS grid). */
  flipAxes: number[];
  rotation: { probability: number; maxDegrees: number };
  zoom: { probability: number; min: number; max: number };
  /** Multiply by U(min, max) and add U(-shift, shift) in z-score units. */
  intensity: { probability: number; min: number; max: number; shift: number };
}

export const DEFAULT_AUGMENTATION: AugmentationSettings = {
  flipAxes: [0],
  rotation: { probability: 0.3, maxDegrees: 15 },
  zoom: { probability: 0.3, min: 0.85, max: 1.15 },
  intensity: { probability: 0.3, min: 0.9, max: 1.1, shift: 0.1 },
};

export const NO_AUGMENTATION: AugmentationSettings = {
  flipAxes: [],
  rotation: { probability: 0, maxDegrees: 0 },
  zoom: { probability: 0, min: 1, max: 1 },
  intensity: { probability: 0, min: 1, max: 1, shift: 0 },
};

function uniform(rng: RandomStream, lo: number, hi: number): number {
  return lo + (hi - lo) * rng.next();
}

/** Draws every random number whether or not it is used, so one setting never shifts another's stream. */
export function drawTransform(rng: RandomStream, start: Shape3, s: AugmentationSettings): PatchTransform {
  const rotate = rng.next() < s.rotation.probability;
  const degrees = uniform(rng, -s.rotation.maxDegrees, s.rotation.maxDegrees);
  const zoomed = rng.next() < s.zoom.probability;
  const zoom = uniform(rng, s.zoom.min, s.zoom.max);
  const flips = [rng.next(), rng.next(), rng.next()];
  const flip: [boolean, boolean, boolean] = [false, false, false];
  for (const axis of s.flipAxes) flip[axis as 0 | 1 | 2] = (flips[axis] as number) < 0.5;
  return {
    start,
    angle: rotate ? (degrees * Math.PI) / 180 : 0,
    zoom: zoomed ? zoom : 1,
    flip,
  };
}

export function jitterIntensity(image: Float32Array, rng: RandomStream, s: AugmentationSettings): void {
  const apply = rng.next() < s.intensity.probability;
  const scale = uniform(rng, s.intensity.min, s.intensity.max);
  const shift = uniform(rng, -s.intensity.shift, s.intensity.shift);
  if (!apply) return;
  for (let i = 0; i < image.length; i++) image[i] = (image[i] as number) * scale + shift;
}
