// Runs in: any process (dataset preprocessing, training workers, prediction export). Canonical voxel order:
// permute and flip a volume's voxel axes (no resampling) so its direction is as close to identity in LPS as
// axis swaps allow, and map a volume on that canonical grid exactly back onto the source grid.
import { EmonasError } from '../base/errors.ts';
import type { VolumeGeometry } from './geometry.ts';
import { type Mat3, type Vec3, type Volume, type VoxelArray } from './volume.ts';
import { allocateVoxels, voxelTypeOf } from './voxel-types.ts';

/**
 * How a source grid maps to its canonical grid; JSON-able so a run can store it with a prediction.
 * Canonical voxel axis a runs along source axis `permutation[a]`, backwards when `flips[a]`.
 */
export interface OrientationTransform {
  permutation: Vec3;
  flips: [boolean, boolean, boolean];
  /** The source grid, kept verbatim so mapping back restores it exactly. */
  source: VolumeGeometry;
}

const PERMUTATIONS: Vec3[] = [
  [0, 1, 2],
  [0, 2, 1],
  [1, 0, 2],
  [1, 2, 0],
  [2, 0, 1],
  [2, 1, 0],
];

/**
 * The axis permutation and flips that best align each voxel axis with a world axis: the permutation with the
 * largest |direction| on the diagonal (ties go to the earlier one in a fixed order, so the choice is
 * reproducible), then a flip wherever that diagonal entry is negative.
 */
export function canonicalTransform(source: VolumeGeometry): OrientationTransform {
  const d = source.direction;
  let best = PERMUTATIONS[0] as Vec3;
  let bestScore = -Infinity;
  for (const p of PERMUTATIONS) {
    const score =
      Math.abs(d[p[0]] as number) + Math.abs(d[3 + p[1]] as number) + Math.abs(d[6 + p[2]] as number);
    if (score > bestScore + 1e-12) {
      best = p;
      bestScore = score;
    }
  }
  const flips = [0, 1, 2].map((a) => (d[a * 3 + (best[a] as number)] as number) < 0) as [
    boolean,
    boolean,
    boolean,
  ];
  return {
    permutation: [...best],
    flips,
    source: {
      shape: [...source.shape],
      spacing: [...source.spacing],
      origin: [...source.origin],
      direction: [...source.direction],
    },
  };
}

export function isIdentityTransform(t: OrientationTransform): boolean {
  return t.permutation.every((p, a) => p === a) && !t.flips.some(Boolean);
}

/** The canonical grid a transform leads to. */
export function canonicalGeometry(t: OrientationTransform): VolumeGeometry {
  const { shape, spacing, origin, direction } = t.source;
  const out: VolumeGeometry = {
    shape: [0, 0, 0],
    spacing: [0, 0, 0],
    origin: [...origin],
    direction: [0, 0, 0, 0, 0, 0, 0, 0, 0],
  };
  for (let a = 0; a < 3; a++) {
    const s = t.permutation[a] as number;
    const sign = t.flips[a] ? -1 : 1;
    out.shape[a] = shape[s] as number;
    out.spacing[a] = spacing[s] as number;
    for (let r = 0; r < 3; r++) {
      const axis = direction[r * 3 + s] as number;
      out.direction[r * 3 + a] = sign * axis + 0; // + 0: no -0 entries in an identity direction
      // A flipped axis starts at the source's last voxel along it.
      if (t.flips[a])
        out.origin[r] =
          (out.origin[r] as number) + axis * (spacing[s] as number) * ((shape[s] as number) - 1);
    }
  }
  return out;
}

/** The volume on its canonical grid, and the transform that maps it (or a prediction on it) back. */
export function toCanonical(volume: Volume): { volume: Volume; transform: OrientationTransform } {
  const transform = canonicalTransform(volume);
  const grid = canonicalGeometry(transform);
  if (isIdentityTransform(transform)) {
    return { volume: { ...grid, data: volume.data.slice(), dataType: volume.dataType }, transform };
  }
  const data = allocateVoxels(voxelTypeOf(volume.data), volume.data.length);
  reorder(volume.data, data, transform, true);
  return { volume: { ...grid, data, dataType: volume.dataType }, transform };
}

/**
 * Maps a volume on the canonical grid (the reoriented image, or anything predicted on it) back onto the source
 * grid: the source's shape and geometry verbatim, and every voxel back in its place.
 */
export function fromCanonical(volume: Volume, transform: OrientationTransform): Volume {
  const expected = canonicalGeometry(transform).shape;
  if (!expected.every((n, a) => n === volume.shape[a])) {
    throw new EmonasError(
      'geometry_mismatch',
      `A volume of shape ${volume.shape.join('×')} cannot be mapped back to its source image: the canonical grid is ${expected.join('×')}.`,
    );
  }
  const data: VoxelArray = allocateVoxels(voxelTypeOf(volume.data), volume.data.length);
  reorder(volume.data, data, transform, false);
  const { shape, spacing, origin, direction } = transform.source;
  return {
    data,
    shape: [...shape],
    spacing: [...spacing],
    origin: [...origin],
    direction: [...direction] as Mat3,
    dataType: volume.dataType,
  };
}

/**
 * Copies every voxel between the source order and the canonical order: gathering (canonical[n] = source[m])
 * or scattering back (source[m] = canonical[n]). Rows that keep the source's fastest axis unflipped are
 * copied whole.
 */
function reorder(from: VoxelArray, to: VoxelArray, t: OrientationTransform, gather: boolean): void {
  const shape = t.source.shape;
  const sourceStride = [1, shape[0], shape[0] * shape[1]];
  const size: number[] = [];
  const step: number[] = [];
  let start = 0;
  for (let a = 0; a < 3; a++) {
    const s = t.permutation[a] as number;
    size.push(shape[s] as number);
    const stride = sourceStride[s] as number;
    step.push(t.flips[a] ? -stride : stride);
    if (t.flips[a]) start += stride * ((shape[s] as number) - 1);
  }
  const [n0, n1, n2] = size as [number, number, number];
  const [s0, s1, s2] = step as [number, number, number];
  let canonical = 0;
  for (let k = 0; k < n2; k++) {
    for (let j = 0; j < n1; j++, canonical += n0) {
      const row = start + k * s2 + j * s1;
      if (s0 === 1) {
        if (gather) to.set(from.subarray(row, row + n0), canonical);
        else to.set(from.subarray(canonical, canonical + n0), row);
      } else if (gather) {
        for (let i = 0, source = row; i < n0; i++, source += s0) to[canonical + i] = from[source] as number;
      } else {
        for (let i = 0, source = row; i < n0; i++, source += s0) to[source] = from[canonical + i] as number;
      }
    }
  }
}
