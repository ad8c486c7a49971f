// Runs in: the engine's WebAssembly instances (see kernels.ts). 3x3x3 stride-1 convolution and its
// filter gradient by Winograd's F(2x2x2, 3x3x3).

import { madd, param } from './shared';

// Each 2x2x2 block of outputs is A' [ (B' d B) . U ] A over its 4x4x4 input tile, taking 64 products per
// input and output channel instead of 216. The filter transform U = G g G' is computed by JavaScript; per
// chunk of T tiles the input is transformed into V [T][64][Ci], multiplied position by position into
// M [T][64][Cp], and M transformed back into outputs.

/**
 * rows x 8 block of out = A [rows][K] (row stride lda bytes) times B [K][8], rows a multiple of 4: the
 * register tile of tile4x8 walked down the rows, for products too short to pay a call per tile.
 */
function gemmRows(a: usize, lda: usize, rows: i32, b: usize, K: i32, out: usize, ldo: usize): void {
  for (let r = 0; r < rows; r += 4) {
    let c00 = f32x4.splat(0);
    let c01 = f32x4.splat(0);
    let c10 = f32x4.splat(0);
    let c11 = f32x4.splat(0);
    let c20 = f32x4.splat(0);
    let c21 = f32x4.splat(0);
    let c30 = f32x4.splat(0);
    let c31 = f32x4.splat(0);
    let p = a + <usize>r * lda;
    let w = b;
    const end = p + ((<usize>K) << 2);
    while (p < end) {
      const b0 = v128.load(w);
      const b1 = v128.load(w, 16);
      let x = v128.load32_splat(p);
      c00 = madd(x, b0, c00);
      c01 = madd(x, b1, c01);
      x = v128.load32_splat(p + lda);
      c10 = madd(x, b0, c10);
      c11 = madd(x, b1, c11);
      x = v128.load32_splat(p + 2 * lda);
      c20 = madd(x, b0, c20);
      c21 = madd(x, b1, c21);
      x = v128.load32_splat(p + 3 * lda);
      c30 = madd(x, b0, c30);
      c31 = madd(x, b1, c31);
      p += 4;
      w += 32;
    }
    let o = out + <usize>r * ldo;
    v128.store(o, c00);
    v128.store(o, c01, 16);
    o += ldo;
    v128.store(o, c10);
    v128.store(o, c11, 16);
    o += ldo;
    v128.store(o, c20);
    v128.store(o, c21, 16);
    o += ldo;
    v128.store(o, c30);
    v128.store(o, c31, 16);
  }
}

/**
 * Params: 0 xp (padded input slab, data at offset 1 on every axis, [2TD+2][Hp][Wp][Ci]), 1 Hp, 2 Wp,
 * 3 Ci (a multiple of 4), 4 TD, 5 TH, 6 TW, 7 out ([outD][outH][outW][Co]), 8 outD, 9 outH, 10 outW,
 * 11 Co (a multiple of 4), 12 U ([64][nblk][Ci][8]), 13 nblk, 14 tiles per chunk T (a multiple of 4),
 * 15 working memory of thread 0, 16 bytes of working memory per thread.
 * V [T][64][Ci] and M [T][64][Cp] keep each tile's transforms together, so the transforms touch
 * contiguous memory and the products read and write rows with a stride.
 */
export function winogradChunk(chunk: i32, tid: i32): void {
  const xp = <usize>param(0);
  const Hp = param(1);
  const Wp = param(2);
  const Ci = param(3);
  const TH = param(5);
  const TW = param(6);
  const out = <usize>param(7);
  const outD = param(8);
  const outH = param(9);
  const outW = param(10);
  const Co = param(11);
  const U = <usize>param(12);
  const nblk = param(13);
  const T = param(14);
  const Cp = nblk * 8;
  const total = param(4) * TH * TW;
  const t0 = chunk * T;
  const count = min<i32>(T, total - t0);
  const V = <usize>param(15) + <usize>tid * <usize>param(16);
  const M = V + ((<usize>(64 * T * Ci)) << 2);
  const tmp = M + ((<usize>(64 * T * Cp)) << 2);
  const voxel = (<usize>Ci) << 2;
  const rowBytes = <usize>Wp * voxel;
  const planeBytes = <usize>Hp * rowBytes;
  const vTile = (<usize>(64 * Ci)) << 2;
  const mTile = (<usize>(64 * Cp)) << 2;
  for (let t = 0; t < T; t++) {
    const tile = t0 + min<i32>(t, count - 1);
    const tw = tile % TW;
    const th = (tile / TW) % TH;
    const td = tile / (TW * TH);
    const base = xp + <usize>(2 * td) * planeBytes + <usize>(2 * th) * rowBytes + <usize>(2 * tw) * voxel;
    for (let c = 0; c < Ci; c += 4) {
      winogradInput(
        base + ((<usize>c) << 2),
        planeBytes,
        rowBytes,
        voxel,
        V + <usize>t * vTile + ((<usize>c) << 2),
        tmp,
      );
    }
  }
  const uBlock = (<usize>(Ci * 8)) << 2;
  for (let p = 0; p < 64; p++) {
    const a = V + ((<usize>(p * Ci)) << 2);
    for (let nb = 0; nb < nblk; nb++) {
      gemmRows(
        a,
        vTile,
        T,
        U + <usize>(p * nblk + nb) * uBlock,
        Ci,
        M + ((<usize>(p * Cp + nb * 8)) << 2),
        mTile,
      );
    }
  }
  for (let t = 0; t < count; t++) {
    const tile = t0 + t;
    const tw = tile % TW;
    const th = (tile / TW) % TH;
    const td = tile / (TW * TH);
    for (let c = 0; c < Co; c += 4) {
      winogradOutput(
        M + <usize>t * mTile + ((<usize>c) << 2),
        (<usize>Cp) << 2,
        tmp,
        out,
        td,
        th,
        tw,
        outD,
        outH,
        outW,
        Co,
        c,
      );
    }
  }
}

/**
 * B' d B on every axis for four channels of one 4x4x4 tile (voxels `voxel` bytes apart in rows of
 * `rowBytes`, planes `planeBytes`), into the 64 positions of dst, each `voxel` bytes after the last. Plane
 * by plane: w and h through a 16-vector scratch, d folded in as the planes arrive.
 */
function winogradInput(
  src: usize,
  planeBytes: usize,
  rowBytes: usize,
  voxel: usize,
  dst: usize,
  tmp: usize,
): void {
  const plane0 = tmp + 256;
  const plane1 = tmp + 512;
  for (let a = 0; a < 4; a++) {
    for (let b = 0; b < 4; b++) {
      const p = src + <usize>a * planeBytes + <usize>b * rowBytes;
      const d0 = v128.load(p);
      const d1 = v128.load(p + voxel);
      const d2 = v128.load(p + 2 * voxel);
      const d3 = v128.load(p + 3 * voxel);
      const q = tmp + ((<usize>b) << 6);
      v128.store(q, f32x4.sub(d0, d2));
      v128.store(q, f32x4.add(d1, d2), 16);
      v128.store(q, f32x4.sub(d2, d1), 32);
      v128.store(q, f32x4.sub(d1, d3), 48);
    }
    for (let l = 0; l < 4; l++) {
      const q = tmp + ((<usize>l) << 4);
      const e0 = v128.load(q);
      const e1 = v128.load(q, 64);
      const e2 = v128.load(q, 128);
      const e3 = v128.load(q, 192);
      const s0 = f32x4.sub(e0, e2);
      const s1 = f32x4.add(e1, e2);
      const s2 = f32x4.sub(e2, e1);
      const s3 = f32x4.sub(e1, e3);
      // s_j is position (j, l) of this plane; jl = j * 4 + l.
      if (a == 0 || a == 1) {
        const keep = (a == 0 ? plane0 : plane1) + ((<usize>l) << 4);
        v128.store(keep, s0);
        v128.store(keep, s1, 64);
        v128.store(keep, s2, 128);
        v128.store(keep, s3, 192);
      } else if (a == 2) {
        winogradFold(dst, voxel, plane0, plane1, l, 0, s0);
        winogradFold(dst, voxel, plane0, plane1, l, 1, s1);
        winogradFold(dst, voxel, plane0, plane1, l, 2, s2);
        winogradFold(dst, voxel, plane0, plane1, l, 3, s3);
      } else {
        const k = plane1 + ((<usize>l) << 4);
        const base = dst + <usize>(48 + l) * voxel;
        v128.store(base, f32x4.sub(v128.load(k), s0));
        v128.store(base + 4 * voxel, f32x4.sub(v128.load(k, 64), s1));
        v128.store(base + 8 * voxel, f32x4.sub(v128.load(k, 128), s2));
        v128.store(base + 12 * voxel, f32x4.sub(v128.load(k, 192), s3));
      }
    }
  }
}

/** The d-transform rows that plane 2 completes: d0 - d2, d1 + d2 and d2 - d1 at position (j, l). */
function winogradFold(
  dst: usize,
  voxel: usize,
  plane0: usize,
  plane1: usize,
  l: i32,
  j: i32,
  d2: v128,
): void {
  const jl = j * 4 + l;
  const at = (<usize>jl) << 4;
  const d0 = v128.load(plane0 + at);
  const d1 = v128.load(plane1 + at);
  v128.store(dst + <usize>jl * voxel, f32x4.sub(d0, d2));
  v128.store(dst + <usize>(16 + jl) * voxel, f32x4.add(d1, d2));
  v128.store(dst + <usize>(32 + jl) * voxel, f32x4.sub(d2, d1));
}

/**
 * A' m A on every axis for four channels of one tile's 64 products (positions `step` bytes apart), written
 * to the tile's 2x2x2 output voxels that lie inside the output.
 */
function winogradOutput(
  src: usize,
  step: usize,
  tmp: usize,
  out: usize,
  td: i32,
  th: i32,
  tw: i32,
  outD: i32,
  outH: i32,
  outW: i32,
  Co: i32,
  c: i32,
): void {
  // Along w: tmp[a][b][k] at (a * 4 + b) * 2 + k.
  for (let ab = 0; ab < 16; ab++) {
    const p = src + <usize>(ab * 4) * step;
    const m0 = v128.load(p);
    const m1 = v128.load(p + step);
    const m2 = v128.load(p + 2 * step);
    const m3 = v128.load(p + 3 * step);
    const q = tmp + ((<usize>(ab * 2)) << 4);
    v128.store(q, f32x4.add(f32x4.add(m0, m1), m2));
    v128.store(q, f32x4.sub(f32x4.sub(m1, m2), m3), 16);
  }
  // Along h: tmp[a][j][k] at 32 + (a * 2 + j) * 2 + k.
  for (let a = 0; a < 4; a++) {
    for (let k = 0; k < 2; k++) {
      const q = tmp + ((<usize>(a * 8 + k)) << 4);
      const m0 = v128.load(q);
      const m1 = v128.load(q, 32);
      const m2 = v128.load(q, 64);
      const m3 = v128.load(q, 96);
      const r = tmp + ((<usize>(32 + a * 4 + k)) << 4);
      v128.store(r, f32x4.add(f32x4.add(m0, m1), m2));
      v128.store(r, f32x4.sub(f32x4.sub(m1, m2), m3), 32);
    }
  }
  // Along d, into the output.
  for (let j = 0; j < 2; j++) {
    for (let k = 0; k < 2; k++) {
      const h = 2 * th + j;
      const w = 2 * tw + k;
      if (h >= outH || w >= outW) continue;
      const q = tmp + ((<usize>(32 + j * 2 + k)) << 4);
      const m0 = v128.load(q);
      const m1 = v128.load(q, 64);
      const m2 = v128.load(q, 128);
      const m3 = v128.load(q, 192);
      const d = 2 * td;
      const at = out + ((<usize>(((d * outH + h) * outW + w) * Co + c)) << 2);
      v128.store(at, f32x4.add(f32x4.add(m0, m1), m2));
      if (d + 1 < outD) v128.store(at + ((<usize>(outH * outW * Co)) << 2), f32x4.sub(f32x4.sub(m1, m2), m3));
    }
  }
}

/**
 * The filter gradient of the same convolution: for each of the 64 positions, the sum over tiles of the
 * transformed input (B' d B) times the expanded output gradient (A g A'), into this thread's partial
 * [64][Ci][Cp]; JavaScript adds the threads' partials and applies G' . G. Tiles beyond the last take a
 * zero gradient so they add nothing.
 * Params: 0 xp, 1 Hp, 2 Wp, 3 Ci, 4 TD, 5 TH, 6 TW (as winogradChunk), 7 g (output gradient,
 * [outD][outH][outW][Co]), 8 outD, 9 outH, 10 outW, 11 Co, 12 partials of thread 0, 13 bytes between
 * threads' partials, 14 tiles per chunk T, 15 working memory of thread 0, 16 bytes of it per thread,
 * 17 Cp (Co rounded up to 8).
 */
export function winogradFilterGradChunk(chunk: i32, tid: i32): void {
  const xp = <usize>param(0);
  const Hp = param(1);
  const Wp = param(2);
  const Ci = param(3);
  const TH = param(5);
  const TW = param(6);
  const g = <usize>param(7);
  const outD = param(8);
  const outH = param(9);
  const outW = param(10);
  const Co = param(11);
  const partial = <usize>param(12) + <usize>tid * <usize>param(13);
  const T = param(14);
  const Cp = param(17);
  const total = param(4) * TH * TW;
  const t0 = chunk * T;
  const count = min<i32>(T, total - t0);
  const V = <usize>param(15) + <usize>tid * <usize>param(16);
  const Y = V + ((<usize>(64 * T * Ci)) << 2);
  const tmp = Y + ((<usize>(64 * T * Cp)) << 2);
  const voxel = (<usize>Ci) << 2;
  const rowBytes = <usize>Wp * voxel;
  const planeBytes = <usize>Hp * rowBytes;
  const vTile = (<usize>(64 * Ci)) << 2;
  const yTile = (<usize>(64 * Cp)) << 2;
  for (let t = 0; t < T; t++) {
    const inside = t < count;
    const tile = t0 + min<i32>(t, count - 1);
    const tw = tile % TW;
    const th = (tile / TW) % TH;
    const td = tile / (TW * TH);
    const base = xp + <usize>(2 * td) * planeBytes + <usize>(2 * th) * rowBytes + <usize>(2 * tw) * voxel;
    for (let c = 0; c < Ci; c += 4) {
      winogradInput(
        base + ((<usize>c) << 2),
        planeBytes,
        rowBytes,
        voxel,
        V + <usize>t * vTile + ((<usize>c) << 2),
        tmp,
      );
    }
    for (let c = 0; c < Cp; c += 4) {
      winogradExpand(
        g,
        inside && c < Co,
        td,
        th,
        tw,
        outD,
        outH,
        outW,
        Co,
        c,
        Y + <usize>t * yTile + ((<usize>c) << 2),
        (<usize>Cp) << 2,
        tmp,
      );
    }
  }
  const ldp = (<usize>Cp) << 2;
  for (let p = 0; p < 64; p++) {
    const a = V + ((<usize>(p * Ci)) << 2);
    const b = Y + ((<usize>(p * Cp)) << 2);
    for (let ci = 0; ci < Ci; ci += 4) {
      for (let co = 0; co < Cp; co += 8) {
        let c = partial + ((<usize>((p * Ci + ci) * Cp + co)) << 2);
        let c00 = v128.load(c);
        let c01 = v128.load(c, 16);
        let c10 = v128.load(c + ldp);
        let c11 = v128.load(c + ldp, 16);
        let c20 = v128.load(c + 2 * ldp);
        let c21 = v128.load(c + 2 * ldp, 16);
        let c30 = v128.load(c + 3 * ldp);
        let c31 = v128.load(c + 3 * ldp, 16);
        let pa = a + ((<usize>ci) << 2);
        let pb = b + ((<usize>co) << 2);
        for (let t = 0; t < T; t++) {
          const b0 = v128.load(pb);
          const b1 = v128.load(pb, 16);
          let x = v128.load32_splat(pa);
          c00 = madd(x, b0, c00);
          c01 = madd(x, b1, c01);
          x = v128.load32_splat(pa, 4);
          c10 = madd(x, b0, c10);
          c11 = madd(x, b1, c11);
          x = v128.load32_splat(pa, 8);
          c20 = madd(x, b0, c20);
          c21 = madd(x, b1, c21);
          x = v128.load32_splat(pa, 12);
          c30 = madd(x, b0, c30);
          c31 = madd(x, b1, c31);
          pa += vTile;
          pb += yTile;
        }
        v128.store(c, c00);
        v128.store(c, c01, 16);
        c += ldp;
        v128.store(c, c10);
        v128.store(c, c11, 16);
        c += ldp;
        v128.store(c, c20);
        v128.store(c, c21, 16);
        c += ldp;
        v128.store(c, c30);
        v128.store(c, c31, 16);
      }
    }
  }
}

/**
 * A g A' on every axis (A = [1 0; 1 1; 1 -1; 0 -1]) for four channels of one tile's 2x2x2 output gradient,
 * zero outside the output (or everywhere when `use` is false), into the 64 positions of dst, `step` bytes
 * apart.
 */
function winogradExpand(
  g: usize,
  use: bool,
  td: i32,
  th: i32,
  tw: i32,
  outD: i32,
  outH: i32,
  outW: i32,
  Co: i32,
  c: i32,
  dst: usize,
  step: usize,
  tmp: usize,
): void {
  // Along w: tmp[i][j][k'] at (i * 2 + j) * 4 + k'.
  for (let i = 0; i < 2; i++) {
    for (let j = 0; j < 2; j++) {
      const d = 2 * td + i;
      const h = 2 * th + j;
      let y0 = f32x4.splat(0);
      let y1 = f32x4.splat(0);
      if (use && d < outD && h < outH) {
        const at = g + ((<usize>(((d * outH + h) * outW + 2 * tw) * Co + c)) << 2);
        y0 = v128.load(at);
        if (2 * tw + 1 < outW) y1 = v128.load(at + ((<usize>Co) << 2));
      }
      const q = tmp + ((<usize>((i * 2 + j) * 4)) << 4);
      v128.store(q, y0);
      v128.store(q, f32x4.add(y0, y1), 16);
      v128.store(q, f32x4.sub(y0, y1), 32);
      v128.store(q, f32x4.neg(y1), 48);
    }
  }
  // Along h: tmp[i][j'][k'] at 16 + (i * 4 + j') * 4 + k'.
  for (let i = 0; i < 2; i++) {
    for (let k = 0; k < 4; k++) {
      const q = tmp + ((<usize>(i * 8 + k)) << 4);
      const y0 = v128.load(q);
      const y1 = v128.load(q, 64);
      const r = tmp + ((<usize>(16 + i * 16 + k)) << 4);
      v128.store(r, y0);
      v128.store(r, f32x4.add(y0, y1), 64);
      v128.store(r, f32x4.sub(y0, y1), 128);
      v128.store(r, f32x4.neg(y1), 192);
    }
  }
  // Along d, into the positions (i' * 4 + j') * 4 + k'.
  for (let jk = 0; jk < 16; jk++) {
    const q = tmp + ((<usize>(16 + jk)) << 4);
    const y0 = v128.load(q);
    const y1 = v128.load(q, 256);
    v128.store(dst + <usize>jk * step, y0);
    v128.store(dst + <usize>(16 + jk) * step, f32x4.add(y0, y1));
    v128.store(dst + <usize>(32 + jk) * step, f32x4.sub(y0, y1));
    v128.store(dst + <usize>(48 + jk) * step, f32x4.neg(y1));
  }
}
