// Runs in: a training worker. Where patches come from: a random position, or, with the foreground
// probability, a position centred on a voxel of a randomly chosen foreground class present in the case
// (nnU-Net's oversampling), so small structures are seen often even in large volumes.
import type { RandomStream } from '../../base/random.ts';
import { drawTransform, jitterIntensity, type AugmentationSettings } from './augment.ts';
import type { Shape3 } from './grid.ts';
import { extractPatch, type Patch } from './patch.ts';
import type { PreparedCase } from './prepared-case.ts';

export interface SamplingSettings {
  patch: Shape3;
  /** Probability that a patch is centred on foreground. */
  foregroundProbability: number;
  augmentation: AugmentationSettings;
}

/**
 * Start index of a patch. A patch larger than the case holds the whole case at a random offset; a
 * smaller one lies inside it.
 */
export function chooseStart(
  shape: Shape3,
  patch: Shape3,
  rng: RandomStream,
  foreground: Int32Array[],
  forceForeground: boolean,
): Shape3 {
  const lo = [0, 1, 2].map((d) => Math.min(0, (shape[d] as number) - (patch[d] as number)));
  const hi = [0, 1, 2].map((d) => Math.max(0, (shape[d] as number) - (patch[d] as number)));
  const randomStart = [0, 1, 2].map(
    (d) => (lo[d] as number) + rng.int((hi[d] as number) - (lo[d] as number) + 1),
  );
  const present = foreground.filter((voxels) => voxels.length > 0);
  const classPick = rng.int(Math.max(1, present.length));
  const voxelPick = rng.next();
  if (!forceForeground || present.length === 0) return randomStart as Shape3;
  const voxels = present[classPick] as Int32Array;
  const flat = voxels[Math.floor(voxelPick * voxels.length)] as number;
  const at = [
    Math.floor(flat / (shape[1] * shape[2])),
    Math.floor(flat / shape[2]) % shape[1],
    flat % shape[2],
  ];
  return [0, 1, 2].map((d) =>
    Math.min(
      hi[d] as number,
      Math.max(lo[d] as number, (at[d] as number) - Math.floor((patch[d] as number) / 2)),
    ),
  ) as Shape3;
}

export function samplePatch(c: PreparedCase, rng: RandomStream, s: SamplingSettings): Patch {
  const force = rng.next() < s.foregroundProbability;
  const start = chooseStart(c.image.shape, s.patch, rng, c.foreground, force);
  const transform = drawTransform(rng, start, s.augmentation);
  const patch = extractPatch(c.image, c.label, s.patch, transform);
  jitterIntensity(patch.image, rng, s.augmentation);
  return patch;
}
