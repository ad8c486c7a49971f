// Runs in: any process. Connected components of a mask and the keep-the-largest-component filter.
import type { Vec3 } from '../io/volume.ts';

/** 6: voxels sharing a face are connected; 26: sharing a face, an edge or a corner. */
export type Connectivity = 6 | 26;

function neighbourOffsets(connectivity: Connectivity): Vec3[] {
  const out: Vec3[] = [];
  for (let dk = -1; dk <= 1; dk++) {
    for (let dj = -1; dj <= 1; dj++) {
      for (let di = -1; di <= 1; di++) {
        const steps = Math.abs(di) + Math.abs(dj) + Math.abs(dk);
        if (steps === 0 || (connectivity === 6 && steps > 1)) continue;
        out.push([di, dj, dk]);
      }
    }
  }
  return out;
}

export interface Components {
  /** 0 outside the mask, else the 1-based component number of the voxel. */
  labels: Int32Array;
  /** sizes[c - 1] = voxel count of component c. */
  sizes: number[];
}

export function connectedComponents(mask: Uint8Array, shape: Vec3, connectivity: Connectivity): Components {
  const [nx, ny, nz] = shape;
  const offsets = neighbourOffsets(connectivity);
  const labels = new Int32Array(mask.length);
  const queue = new Int32Array(mask.length);
  const sizes: number[] = [];
  for (let seed = 0; seed < mask.length; seed++) {
    if (mask[seed] === 0 || labels[seed] !== 0) continue;
    const component = sizes.length + 1;
    labels[seed] = component;
    let head = 0;
    let tail = 0;
    queue[tail++] = seed;
    while (head < tail) {
      const n = queue[head++]!;
      const i = n % nx;
      const j = Math.floor(n / nx) % ny;
      const k = Math.floor(n / (nx * ny));
      for (const [di, dj, dk] of offsets) {
        const a = i + di;
        const b = j + dj;
        const c = k + dk;
        if (a < 0 || a >= nx || b < 0 || b >= ny || c < 0 || c >= nz) continue;
        const m = a + nx * (b + ny * c);
        if (mask[m] === 0 || labels[m] !== 0) continue;
        labels[m] = component;
        queue[tail++] = m;
      }
    }
    sizes.push(tail);
  }
  return { labels, sizes };
}

/**
 * The mask with every component but the largest removed. When several components share the largest size
 * all of them are kept, as nnU-Net's remove_all_but_largest_component does.
 */
export function largestComponent(mask: Uint8Array, shape: Vec3, connectivity: Connectivity): Uint8Array {
  const { labels, sizes } = connectedComponents(mask, shape, connectivity);
  const largest = Math.max(0, ...sizes);
  const keep = sizes.map((size) => size === largest);
  const out = new Uint8Array(mask.length);
  for (let n = 0; n < mask.length; n++) {
    const c = labels[n]!;
    if (c !== 0 && keep[c - 1]) out[n] = 1;
  }
  return out;
}
