// Runs in: a training worker (and any process that tests it). The reference protocol's validation input
// (method.md section 5.1): each validation volume cut into non-overlapping slabs of the training slab's
// size, 128 x 128 x 16 for the reference's 128 x 128 x 64 PROMISE12 volumes, so four per volume. The
// reference has no other volume size (method.md section 6.2); here a side shorter than the slab is centred
// in it and a longer one is tiled from its start, the last slab reaching past the end, with zeros outside
// the volume (background in the labels), so the slabs still cover every voxel exactly once.
import type { Shape3 } from './grid.ts';
import { extractPatch, identityTransform, type Patch } from './patch.ts';
import type { PreparedCase } from './prepared-case.ts';

/** Starts of the slabs along one axis of `length` voxels. */
function axisStarts(length: number, side: number): number[] {
  // 0 - x: a side that fits exactly starts at 0, not -0.
  if (length <= side) return [0 - Math.floor((side - length) / 2)];
  const starts: number[] = [];
  for (let s = 0; s < length; s += side) starts.push(s);
  return starts;
}

/** The slabs' starts over a volume, along d3 fastest (a volume's slabs in slice order). */
export function slabStarts(shape: Shape3, slab: Shape3): Shape3[] {
  const out: Shape3[] = [];
  for (const s0 of axisStarts(shape[0], slab[0]))
    for (const s1 of axisStarts(shape[1], slab[1]))
      for (const s2 of axisStarts(shape[2], slab[2])) out.push([s0, s1, s2]);
  return out;
}

export interface ValidationSlab {
  /** Index of its case in the list given. */
  caseIndex: number;
  start: Shape3;
  patch: Patch;
}

/** Every validation case's slabs, case by case, each with hard labels. */
export function validationSlabs(cases: readonly PreparedCase[], slab: Shape3): ValidationSlab[] {
  return cases.flatMap((c, caseIndex) =>
    slabStarts(c.image.shape, slab).map((start) => ({
      caseIndex,
      start,
      patch: extractPatch(c.image, c.label, slab, identityTransform(start)),
    })),
  );
}
