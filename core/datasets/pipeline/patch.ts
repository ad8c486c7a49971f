// Runs in: a training worker (and any process that tests it). Cuts a patch out of a preprocessed case in
// one pass, with the augmentation's in-plane rotation, zoom and mirroring folded into the coordinate map,
// so rotating never smears the volume's border into the patch. Intensities interpolate bilinearly in the
// d1 x d2 plane; labels take the nearest voxel, so they stay hard (never the reference's cubic-smoothed
// masks). Whatever falls outside the case is 0: background for labels, the mean for z-scored images.
import { gridSize, type Grid, type Shape3 } from './grid.ts';

export interface PatchTransform {
  /** Grid index of the patch's first voxel when there is no rotation or zoom. */
  start: Shape3;
  /** In-plane rotation in radians, about the patch centre. */
  angle: number;
  /** In-plane zoom: above 1 the anatomy appears larger. */
  zoom: number;
  /** Mirror the patch along each network axis. */
  flip: [boolean, boolean, boolean];
}

export function identityTransform(start: Shape3): PatchTransform {
  return { start, angle: 0, zoom: 1, flip: [false, false, false] };
}

export interface Patch {
  image: Float32Array;
  label: Uint8Array | undefined;
  /** Soft class targets (voxel-major, every class per voxel, background first) instead of `label`. */
  target?: Float32Array;
}

export function extractPatch(
  image: Grid,
  label: Grid<Uint8Array> | undefined,
  patch: Shape3,
  t: PatchTransform,
): Patch {
  const out: Patch = {
    image: new Float32Array(gridSize(patch)),
    label: label ? new Uint8Array(gridSize(patch)) : undefined,
  };
  const [n0, n1, n2] = image.shape;
  const [p0, p1, p2] = patch;
  const h0 = (p0 - 1) / 2;
  const h1 = (p1 - 1) / 2;
  const cos = Math.cos(t.angle) / t.zoom;
  const sin = Math.sin(t.angle) / t.zoom;
  // The slice axis is never rotated or zoomed, so each output row along d3 copies a run of source voxels.
  const c0 = t.start[2];
  const cLo = Math.max(0, -c0);
  const cHi = Math.min(p2, n2 - c0);
  for (let a = 0; a < p0; a++) {
    const oa = t.flip[0] ? h0 - a : a - h0;
    for (let b = 0; b < p1; b++) {
      const ob = t.flip[1] ? h1 - b : b - h1;
      const u = t.start[0] + h0 + cos * oa - sin * ob;
      const v = t.start[1] + h1 + sin * oa + cos * ob;
      const outRow = (a * p1 + b) * p2;
      const i0 = Math.floor(u);
      const j0 = Math.floor(v);
      const fu = u - i0;
      const fv = v - j0;
      for (let corner = 0; corner < 4; corner++) {
        const i = i0 + (corner >> 1);
        const j = j0 + (corner & 1);
        if (i < 0 || i >= n0 || j < 0 || j >= n1) continue;
        const w = (corner >> 1 ? fu : 1 - fu) * (corner & 1 ? fv : 1 - fv);
        if (w === 0) continue;
        const inRow = (i * n1 + j) * n2;
        for (let c = cLo; c < cHi; c++) {
          const oc = t.flip[2] ? p2 - 1 - c : c;
          out.image[outRow + oc] =
            (out.image[outRow + oc] as number) + w * (image.data[inRow + c0 + c] as number);
        }
      }
      if (label && out.label) {
        const i = Math.round(u);
        const j = Math.round(v);
        if (i < 0 || i >= n0 || j < 0 || j >= n1) continue;
        const inRow = (i * n1 + j) * n2;
        for (let c = cLo; c < cHi; c++) {
          const oc = t.flip[2] ? p2 - 1 - c : c;
          out.label[outRow + oc] = label.data[inRow + c0 + c] as number;
        }
      }
    }
  }
  return out;
}
