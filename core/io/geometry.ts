// Runs in: any process. Voxel-to-world geometry: NIfTI's RAS affines and quaternions converted to and from
// the Volume's LPS origin, direction and spacing.
import type { Mat3, Vec3 } from './volume.ts';

/** Where a voxel grid sits in the world (the Volume's geometry without its data). */
export interface VolumeGeometry {
  shape: Vec3;
  spacing: Vec3;
  origin: Vec3;
  direction: Mat3;
}

/** Row-major 3x4 affine (the top of a 4x4): world = A * [i, j, k, 1]. NIfTI's are in RAS millimetres. */
export type Affine = [
  number,
  number,
  number,
  number,
  number,
  number,
  number,
  number,
  number,
  number,
  number,
  number,
];

/** Quaternion form of a NIfTI qform: rotation (b, c, d), offset, voxel sizes and the qfac sign. */
export interface Quaternion {
  quatern: Vec3;
  qoffset: Vec3;
  spacing: Vec3;
  qfac: 1 | -1;
}

/** LPS geometry from a RAS affine, or undefined when a voxel axis has no length (a degenerate affine). */
export function geometryFromRasAffine(
  affine: Affine,
): { spacing: Vec3; origin: Vec3; direction: Mat3 } | undefined {
  const spacing: Vec3 = [0, 0, 0];
  const direction: Mat3 = [0, 0, 0, 0, 0, 0, 0, 0, 0];
  for (let c = 0; c < 3; c++) {
    // RAS -> LPS negates the first two world coordinates.
    const x = -at(affine, c);
    const y = -at(affine, 4 + c);
    const z = at(affine, 8 + c);
    const length = Math.hypot(x, y, z);
    if (!(length > 0) || !Number.isFinite(length)) return undefined;
    spacing[c] = length;
    // "+ 0" turns the -0 of a negated zero into 0, so equal geometries compare equal.
    direction[c] = x / length + 0;
    direction[3 + c] = y / length + 0;
    direction[6 + c] = z / length + 0;
  }
  const origin: Vec3 = [-affine[3] + 0, -affine[7] + 0, affine[11]];
  if (!origin.every(Number.isFinite)) return undefined;
  return { spacing, origin, direction };
}

export function rasAffineFromGeometry(g: { spacing: Vec3; origin: Vec3; direction: Mat3 }): Affine {
  const a: number[] = [];
  const sign = [-1, -1, 1];
  for (let r = 0; r < 3; r++) {
    const s = sign[r] as number;
    for (let c = 0; c < 3; c++) a.push(s * at(g.direction, r * 3 + c) * at(g.spacing, c) + 0);
    a.push(s * at(g.origin, r) + 0);
  }
  return a as Affine;
}

/** The RAS affine of a qform, following nifti1_io's quatern_to_mat44 (qfac from pixdim[0]). */
export function rasAffineFromQuaternion(q: Quaternion): Affine {
  let [b, c, d] = q.quatern;
  let a = 1 - (b * b + c * c + d * d);
  if (a < 1e-7) {
    // Rounding pushed |(b, c, d)| to 1 or past it: a 180 degree rotation, so renormalise and set a = 0.
    const n = 1 / Math.sqrt(b * b + c * c + d * d);
    b *= n;
    c *= n;
    d *= n;
    a = 0;
  } else {
    a = Math.sqrt(a);
  }
  const r = [
    a * a + b * b - c * c - d * d,
    2 * (b * c - a * d),
    2 * (b * d + a * c),
    2 * (b * c + a * d),
    a * a + c * c - b * b - d * d,
    2 * (c * d - a * b),
    2 * (b * d - a * c),
    2 * (c * d + a * b),
    a * a + d * d - c * c - b * b,
  ];
  const scale = [q.spacing[0], q.spacing[1], q.qfac * q.spacing[2]];
  const out: number[] = [];
  for (let row = 0; row < 3; row++) {
    for (let col = 0; col < 3; col++) out.push((r[row * 3 + col] as number) * (scale[col] as number));
    out.push(at(q.qoffset, row));
  }
  return out as Affine;
}

/**
 * The qform closest to a RAS affine, following nifti1_io's mat44_to_quatern: a sheared affine is replaced by
 * its nearest rotation (polar decomposition), a left-handed one by qfac = -1.
 */
export function quaternionFromRasAffine(affine: Affine): Quaternion {
  const spacing: Vec3 = [0, 0, 0];
  const m: Mat3 = [0, 0, 0, 0, 0, 0, 0, 0, 0];
  for (let c = 0; c < 3; c++) {
    const length = Math.hypot(at(affine, c), at(affine, 4 + c), at(affine, 8 + c));
    spacing[c] = length > 0 ? length : 1;
    for (let r = 0; r < 3; r++) m[r * 3 + c] = length > 0 ? at(affine, r * 4 + c) / length : r === c ? 1 : 0;
  }
  const rot = nearestOrthogonal(m);
  let qfac: 1 | -1 = 1;
  if (det3(rot) < 0) {
    qfac = -1;
    rot[2] = -rot[2];
    rot[5] = -rot[5];
    rot[8] = -rot[8];
  }
  const [r11, r12, r13, r21, r22, r23, r31, r32, r33] = rot;
  let a = r11 + r22 + r33 + 1;
  let b: number;
  let c: number;
  let d: number;
  if (a > 0.5) {
    a = 0.5 * Math.sqrt(a);
    b = (0.25 * (r32 - r23)) / a;
    c = (0.25 * (r13 - r31)) / a;
    d = (0.25 * (r21 - r12)) / a;
  } else {
    const xd = 1 + r11 - (r22 + r33);
    const yd = 1 + r22 - (r11 + r33);
    const zd = 1 + r33 - (r11 + r22);
    if (xd > 1) {
      b = 0.5 * Math.sqrt(xd);
      c = (0.25 * (r12 + r21)) / b;
      d = (0.25 * (r13 + r31)) / b;
      a = (0.25 * (r32 - r23)) / b;
    } else if (yd > 1) {
      c = 0.5 * Math.sqrt(yd);
      b = (0.25 * (r12 + r21)) / c;
      d = (0.25 * (r23 + r32)) / c;
      a = (0.25 * (r13 - r31)) / c;
    } else {
      d = 0.5 * Math.sqrt(zd);
      b = (0.25 * (r13 + r31)) / d;
      c = (0.25 * (r23 + r32)) / d;
      a = (0.25 * (r21 - r12)) / d;
    }
    if (a < 0) {
      b = -b;
      c = -c;
      d = -d;
    }
  }
  return { quatern: [b, c, d], qoffset: [affine[3], affine[7], affine[11]], spacing, qfac };
}

/** World position (LPS mm) of voxel (i, j, k). */
export function worldPosition(g: { spacing: Vec3; origin: Vec3; direction: Mat3 }, ijk: Vec3): Vec3 {
  const out: Vec3 = [0, 0, 0];
  for (let r = 0; r < 3; r++) {
    let v = at(g.origin, r);
    for (let c = 0; c < 3; c++) v += at(g.direction, r * 3 + c) * at(g.spacing, c) * at(ijk, c);
    out[r] = v;
  }
  return out;
}

/** True when two affines agree to `tolerance` millimetres per entry. */
export function sameAffine(a: Affine, b: Affine, tolerance: number): boolean {
  for (let i = 0; i < 12; i++) {
    if (!(Math.abs(at(a, i) - at(b, i)) <= tolerance)) return false;
  }
  return true;
}

/** Element i of a fixed-length tuple (the index is always in range here). */
function at(values: readonly number[], i: number): number {
  return values[i] as number;
}

export function det3(m: Mat3): number {
  return (
    m[0] * (m[4] * m[8] - m[5] * m[7]) -
    m[1] * (m[3] * m[8] - m[5] * m[6]) +
    m[2] * (m[3] * m[7] - m[4] * m[6])
  );
}

function inverseTranspose(m: Mat3): Mat3 {
  const det = det3(m);
  // Cofactor matrix divided by the determinant is the inverse's transpose.
  return [
    (m[4] * m[8] - m[5] * m[7]) / det,
    -(m[3] * m[8] - m[5] * m[6]) / det,
    (m[3] * m[7] - m[4] * m[6]) / det,
    -(m[1] * m[8] - m[2] * m[7]) / det,
    (m[0] * m[8] - m[2] * m[6]) / det,
    -(m[0] * m[7] - m[1] * m[6]) / det,
    (m[1] * m[5] - m[2] * m[4]) / det,
    -(m[0] * m[5] - m[2] * m[3]) / det,
    (m[0] * m[4] - m[1] * m[3]) / det,
  ];
}

/** The orthogonal factor of the polar decomposition, by Newton's iteration X <- (X + X^-T) / 2. */
function nearestOrthogonal(m: Mat3): Mat3 {
  let x: Mat3 = [...m];
  if (!(Math.abs(det3(x)) > 1e-12)) return [1, 0, 0, 0, 1, 0, 0, 0, 1];
  for (let iteration = 0; iteration < 60; iteration++) {
    const y = inverseTranspose(x);
    let change = 0;
    const next = x.map((v, i) => {
      const z = 0.5 * (v + (y[i] as number));
      change += Math.abs(z - v);
      return z;
    }) as Mat3;
    x = next;
    if (change < 1e-14) break;
  }
  return x;
}
