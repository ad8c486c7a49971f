// Runs in: any process. The surface of a mask as the common reference implementations define it.
import type { Vec3 } from '../io/volume.ts';

/**
 * The border voxels of a mask: mask voxels with at least one face neighbour (6-neighbourhood) that is
 * background or lies outside the grid. This is mask XOR erosion(mask) with a 6-connected structuring
 * element and a background border, the surface medpy, MONAI and SimpleITK-based scripts measure from.
 */
export function surfaceOf(mask: Uint8Array, shape: Vec3): Uint8Array {
  const [nx, ny, nz] = shape;
  const sy = nx;
  const sz = nx * ny;
  const out = new Uint8Array(mask.length);
  for (let k = 0, n = 0; k < nz; k++) {
    for (let j = 0; j < ny; j++) {
      for (let i = 0; i < nx; i++, n++) {
        if (mask[n] === 0) continue;
        const border =
          i === 0 ||
          i === nx - 1 ||
          j === 0 ||
          j === ny - 1 ||
          k === 0 ||
          k === nz - 1 ||
          mask[n - 1] === 0 ||
          mask[n + 1] === 0 ||
          mask[n - sy] === 0 ||
          mask[n + sy] === 0 ||
          mask[n - sz] === 0 ||
          mask[n + sz] === 0;
        if (border) out[n] = 1;
      }
    }
  }
  return out;
}
