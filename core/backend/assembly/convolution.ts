// Runs in: the engine's WebAssembly instances (see kernels.ts). Direct 3D convolution: the forward pass
// and filter gradient as register-tiled SIMD matrix products read straight from a padded input (no
// im2col), and the layout moves around them (padding, the transposed convolution's scatter).

import { madd, param, scratch } from './shared';

// ---------------------------------------------------------------------------------------------------
// Layout moves.

/**
 * Copies a compact [D][H][W][C] block into a zeroed [Dp][Hp][Wp][Cp] block at offset (od, oh, ow),
 * cropping whatever falls outside. One chunk per destination plane.
 * Params: 0 src, 1 D, 2 H, 3 W, 4 C, 5 dst, 6 Dp, 7 Hp, 8 Wp, 9 Cp, 10 od, 11 oh, 12 ow.
 */
export function padChunk(pd: i32): void {
  const src = <usize>param(0);
  const D = param(1);
  const H = param(2);
  const W = param(3);
  const C = param(4);
  const Hp = param(7);
  const Wp = param(8);
  const Cp = param(9);
  const oh = param(11);
  const ow = param(12);
  const rowBytes = (<usize>(Wp * Cp)) << 2;
  const plane = <usize>param(5) + <usize>pd * <usize>Hp * rowBytes;
  const d = pd - param(10);
  if (d < 0 || d >= D) {
    memory.fill(plane, 0, <usize>Hp * rowBytes);
    return;
  }
  const w0 = max<i32>(0, ow);
  const w1 = min<i32>(Wp, ow + W);
  for (let ph = 0; ph < Hp; ph++) {
    const row = plane + <usize>ph * rowBytes;
    const h = ph - oh;
    if (h < 0 || h >= H || w1 <= w0) {
      memory.fill(row, 0, rowBytes);
      continue;
    }
    const from = src + (((<usize>(d * H + h) * <usize>W + <usize>(w0 - ow)) * <usize>C) << 2);
    memory.fill(row, 0, (<usize>(w0 * Cp)) << 2);
    const to = row + ((<usize>(w0 * Cp)) << 2);
    if (C == Cp) {
      memory.copy(to, from, (<usize>((w1 - w0) * C)) << 2);
    } else {
      const cBytes = (<usize>C) << 2;
      const pBytes = (<usize>Cp) << 2;
      for (let w = 0; w < w1 - w0; w++) {
        memory.copy(to + <usize>w * pBytes, from + <usize>w * cBytes, cBytes);
        memory.fill(to + <usize>w * pBytes + cBytes, 0, pBytes - cBytes);
      }
    }
    memory.fill(row + ((<usize>(w1 * Cp)) << 2), 0, (<usize>((Wp - w1) * Cp)) << 2);
  }
}

/**
 * Spreads the product rows of a transposed convolution whose stride equals its kernel: row v of src holds,
 * for each of the kd*kh*kw kernel positions, the C values of output voxel s*v + position. One chunk per
 * source plane.
 * Params: 0 src, 1 H, 2 W, 3 kd, 4 kh, 5 kw, 6 C, 7 dst (compact [kd*D][kh*H][kw*W][C]).
 */
export function scatterChunk(d: i32): void {
  const H = param(1);
  const W = param(2);
  const kd = param(3);
  const kh = param(4);
  const kw = param(5);
  const C = param(6);
  const dst = <usize>param(7);
  const Ho = H * kh;
  const Wo = W * kw;
  const runBytes = (<usize>(C * kw)) << 2;
  let src = <usize>param(0) + ((<usize>d * <usize>H * <usize>W * <usize>(kd * kh * kw * C)) << 2);
  for (let h = 0; h < H; h++) {
    for (let w = 0; w < W; w++) {
      for (let a = 0; a < kd; a++) {
        for (let b = 0; b < kh; b++) {
          const to =
            dst + (((<usize>((d * kd + a) * Ho + h * kh + b) * <usize>Wo + <usize>(w * kw)) * <usize>C) << 2);
          memory.copy(to, src, runBytes);
          src += runBytes;
        }
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------------
// Convolution as a matrix product read in place. For an output voxel, the input values under kernel
// row (a, b) and every (c, channel) are kw*Ci consecutive floats of the padded input, so a convolution
// is a product whose left rows are found through ntap offsets from one base address per voxel, and
// whose right matrix is the filter packed into 8-column panels.

/**
 * Four output voxels by eight output channels, summed over ntap runs of L floats. 4x8 measured fastest
 * on V8 (25-40 GFLOP/s a thread); wider tiles spill registers, unrolling over L was slower.
 */
function tile4x8(
  a0: usize,
  a1: usize,
  a2: usize,
  a3: usize,
  taps: usize,
  ntap: i32,
  L: i32,
  w: usize,
  out: usize,
  ldo: usize,
): void {
  let c00 = f32x4.splat(0);
  let c01 = f32x4.splat(0);
  let c10 = f32x4.splat(0);
  let c11 = f32x4.splat(0);
  let c20 = f32x4.splat(0);
  let c21 = f32x4.splat(0);
  let c30 = f32x4.splat(0);
  let c31 = f32x4.splat(0);
  const runBytes = (<usize>L) << 2;
  for (let t = 0; t < ntap; t++) {
    const off = <usize>load<i32>(taps + ((<usize>t) << 2));
    let p0 = a0 + off;
    let p1 = a1 + off;
    let p2 = a2 + off;
    let p3 = a3 + off;
    const end = p0 + runBytes;
    while (p0 < end) {
      const b0 = v128.load(w);
      const b1 = v128.load(w, 16);
      let x = v128.load32_splat(p0);
      c00 = madd(x, b0, c00);
      c01 = madd(x, b1, c01);
      x = v128.load32_splat(p1);
      c10 = madd(x, b0, c10);
      c11 = madd(x, b1, c11);
      x = v128.load32_splat(p2);
      c20 = madd(x, b0, c20);
      c21 = madd(x, b1, c21);
      x = v128.load32_splat(p3);
      c30 = madd(x, b0, c30);
      c31 = madd(x, b1, c31);
      p0 += 4;
      p1 += 4;
      p2 += 4;
      p3 += 4;
      w += 32;
    }
  }
  v128.store(out, c00);
  v128.store(out, c01, 16);
  out += ldo;
  v128.store(out, c10);
  v128.store(out, c11, 16);
  out += ldo;
  v128.store(out, c20);
  v128.store(out, c21, 16);
  out += ldo;
  v128.store(out, c30);
  v128.store(out, c31, 16);
}

/**
 * One chunk of output voxels of a convolution (forward, or the input gradient written as one).
 * Params: 0 xp (padded input), 1 Hp, 2 Wp, 3 Ci, 4 sd, 5 sh, 6 sw, 7 out ([V][Co]), 8 Ho, 9 Wo, 10 V,
 * 11 Co, 12 taps (ntap byte offsets), 13 ntap, 14 L, 15 packed filter ([nblk][ntap*L][8]), 16 nblk,
 * 17 voxels per chunk (a multiple of 4, at most 256).
 */
export function convChunk(chunk: i32, tid: i32): void {
  const xp = <usize>param(0);
  const Hp = param(1);
  const Wp = param(2);
  const Ci = param(3);
  const sd = param(4);
  const sh = param(5);
  const sw = param(6);
  const out = <usize>param(7);
  const Ho = param(8);
  const Wo = param(9);
  const V = param(10);
  const Co = param(11);
  const taps = <usize>param(12);
  const ntap = param(13);
  const L = param(14);
  const packed = <usize>param(15);
  const nblk = param(16);
  const per = param(17);
  const v0 = chunk * per;
  const v1 = min<i32>(v0 + per, V);
  const bases = scratch(tid);
  const tileOut = bases + 1024 + 64;
  // Base address of every voxel of the chunk, repeating the last one to fill the final tile.
  let d = v0 / (Ho * Wo);
  let h = (v0 / Wo) % Ho;
  let w = v0 % Wo;
  const voxelBytes = (<usize>Ci) << 2;
  for (let v = v0; v < v1; v++) {
    const base = xp + <usize>((d * sd * Hp + h * sh) * Wp + w * sw) * voxelBytes;
    store<u32>(bases + ((<usize>(v - v0)) << 2), <u32>base);
    if (++w == Wo) {
      w = 0;
      if (++h == Ho) {
        h = 0;
        d++;
      }
    }
  }
  const n = v1 - v0;
  const last = load<u32>(bases + ((<usize>(n - 1)) << 2));
  for (let i = n; i < ((n + 3) & ~3); i++) store<u32>(bases + ((<usize>i) << 2), last);
  const blockBytes = (<usize>(ntap * L)) << 5;
  const ldo = (<usize>Co) << 2;
  for (let nb = 0; nb < nblk; nb++) {
    const w8 = packed + <usize>nb * blockBytes;
    const cols = min<i32>(8, Co - nb * 8);
    for (let i = 0; i < n; i += 4) {
      const p = bases + ((<usize>i) << 2);
      const a0 = <usize>load<u32>(p);
      const a1 = <usize>load<u32>(p, 4);
      const a2 = <usize>load<u32>(p, 8);
      const a3 = <usize>load<u32>(p, 12);
      const dst = out + ((<usize>(v0 + i) * <usize>Co + <usize>(nb * 8)) << 2);
      if (cols == 8 && i + 4 <= n) {
        tile4x8(a0, a1, a2, a3, taps, ntap, L, w8, dst, ldo);
      } else {
        tile4x8(a0, a1, a2, a3, taps, ntap, L, w8, tileOut, 32);
        const rows = min<i32>(4, n - i);
        for (let r = 0; r < rows; r++) {
          memory.copy(dst + <usize>r * ldo, tileOut + ((<usize>r) << 5), (<usize>cols) << 2);
        }
      }
    }
  }
}

/**
 * One chunk of output rows of a filter gradient: for every kernel row (a, b), every 4 of its L = kw*Ci
 * (c, channel) entries and every 8 output channels, adds the chunk's sum of input times output gradient
 * to this thread's partial sum [ntap][Lp][Cp].
 * Params: 0 xp, 1 Hp, 2 Wp, 3 Ci, 4 sd, 5 sh, 6 sw, 7 g (output gradient [rows][Wo][Cp]), 8 Ho, 9 Wo,
 * 10 rows (Do*Ho), 11 Cp, 12 taps, 13 ntap, 14 L, 15 partial sums of thread 0, 16 bytes between threads'
 * partial sums, 17 rows per chunk (at most 256), 18 Lp (L rounded up to 4).
 */
export function filterGradChunk(chunk: i32, tid: i32): void {
  const xp = <usize>param(0);
  const Hp = param(1);
  const Wp = param(2);
  const Ci = param(3);
  const sd = param(4);
  const sh = param(5);
  const sw = param(6);
  const g = <usize>param(7);
  const Ho = param(8);
  const Wo = param(9);
  const rows = param(10);
  const Cp = param(11);
  const taps = <usize>param(12);
  const ntap = param(13);
  const Lp = param(18);
  const partial = <usize>param(15) + <usize>tid * <usize>param(16);
  const per = param(17);
  const r0 = chunk * per;
  const r1 = min<i32>(r0 + per, rows);
  const n = r1 - r0;
  const aRows = scratch(tid);
  const gRows = aRows + 1024;
  const voxelBytes = (<usize>Ci) << 2;
  const gRowBytes = (<usize>(Wo * Cp)) << 2;
  for (let r = 0; r < n; r++) {
    const d = (r0 + r) / Ho;
    const h = (r0 + r) % Ho;
    store<u32>(aRows + ((<usize>r) << 2), <u32>(xp + <usize>((d * sd * Hp + h * sh) * Wp) * voxelBytes));
    store<u32>(gRows + ((<usize>r) << 2), <u32>(g + <usize>(r0 + r) * gRowBytes));
  }
  const aStep = <usize>sw * voxelBytes;
  const gStep = (<usize>Cp) << 2;
  const ldc = (<usize>Cp) << 2;
  for (let t = 0; t < ntap; t++) {
    const off = <usize>load<i32>(taps + ((<usize>t) << 2));
    for (let k = 0; k < Lp; k += 4) {
      for (let nb = 0; nb < Cp; nb += 8) {
        let c = partial + ((<usize>(t * Lp + k) * <usize>Cp + <usize>nb) << 2);
        let c00 = v128.load(c);
        let c01 = v128.load(c, 16);
        let c10 = v128.load(c + ldc);
        let c11 = v128.load(c + ldc, 16);
        let c20 = v128.load(c + 2 * ldc);
        let c21 = v128.load(c + 2 * ldc, 16);
        let c30 = v128.load(c + 3 * ldc);
        let c31 = v128.load(c + 3 * ldc, 16);
        for (let r = 0; r < n; r++) {
          let p = <usize>load<u32>(aRows + ((<usize>r) << 2)) + off + ((<usize>k) << 2);
          let q = <usize>load<u32>(gRows + ((<usize>r) << 2)) + ((<usize>nb) << 2);
          for (let w = 0; w < Wo; w++) {
            const b0 = v128.load(q);
            const b1 = v128.load(q, 16);
            let x = v128.load32_splat(p);
            c00 = madd(x, b0, c00);
            c01 = madd(x, b1, c01);
            x = v128.load32_splat(p, 4);
            c10 = madd(x, b0, c10);
            c11 = madd(x, b1, c11);
            x = v128.load32_splat(p, 8);
            c20 = madd(x, b0, c20);
            c21 = madd(x, b1, c21);
            x = v128.load32_splat(p, 12);
            c30 = madd(x, b0, c30);
            c31 = madd(x, b1, c31);
            p += aStep;
            q += gStep;
          }
        }
        v128.store(c, c00);
        v128.store(c, c01, 16);
        c += ldc;
        v128.store(c, c10);
        v128.store(c, c11, 16);
        c += ldc;
        v128.store(c, c20);
        v128.store(c, c21, 16);
        c += ldc;
        v128.store(c, c30);
        v128.store(c, c31, 16);
      }
    }
  }
}
