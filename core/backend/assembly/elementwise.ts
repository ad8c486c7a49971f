// Runs in: the engine's WebAssembly instances (see kernels.ts). Element-wise operations (broadcasting
// arithmetic, unary functions with a SIMD exponential) and reductions over float32 tensors.

import { param } from './shared';

const OP_ADD: i32 = 0;
const OP_SUB: i32 = 1;
const OP_MUL: i32 = 2;
const OP_DIV: i32 = 3;
const OP_MAX: i32 = 4;
const OP_MIN: i32 = 5;
const OP_SQUARED_DIFFERENCE: i32 = 6;

function vop(op: i32, x: v128, y: v128): v128 {
  if (op == OP_ADD) return f32x4.add(x, y);
  if (op == OP_SUB) return f32x4.sub(x, y);
  if (op == OP_MUL) return f32x4.mul(x, y);
  if (op == OP_DIV) return f32x4.div(x, y);
  if (op == OP_MAX) return f32x4.max(x, y);
  if (op == OP_MIN) return f32x4.min(x, y);
  // (x - y)^2 in double and rounded once, as the cpu backend computes it.
  const lo = f64x2.sub(f64x2.promote_low_f32x4(x), f64x2.promote_low_f32x4(y));
  const hi = f64x2.sub(
    f64x2.promote_low_f32x4(i32x4.shuffle(x, x, 2, 3, 0, 1)),
    f64x2.promote_low_f32x4(i32x4.shuffle(y, y, 2, 3, 0, 1)),
  );
  return i32x4.shuffle(
    f32x4.demote_f64x2_zero(f64x2.mul(lo, lo)),
    f32x4.demote_f64x2_zero(f64x2.mul(hi, hi)),
    0,
    1,
    4,
    5,
  );
}

function sop(op: i32, x: f32, y: f32): f32 {
  return f32x4.extract_lane(vop(op, f32x4.splat(x), f32x4.splat(y)), 0);
}

/** out[i] = a[i*as] op b[i*bs] for i < n, with as and bs 0 or 1. */
function binaryRun(op: i32, out: usize, a: usize, b: usize, n: i32, as: i32, bs: i32): void {
  let i = 0;
  if (as == 1 && bs == 1) {
    for (; i + 4 <= n; i += 4) {
      const at = (<usize>i) << 2;
      v128.store(out + at, vop(op, v128.load(a + at), v128.load(b + at)));
    }
  } else if (as == 0 && bs == 1) {
    const x = v128.load32_splat(a);
    for (; i + 4 <= n; i += 4) {
      const at = (<usize>i) << 2;
      v128.store(out + at, vop(op, x, v128.load(b + at)));
    }
  } else if (as == 1 && bs == 0) {
    const y = v128.load32_splat(b);
    for (; i + 4 <= n; i += 4) {
      const at = (<usize>i) << 2;
      v128.store(out + at, vop(op, v128.load(a + at), y));
    }
  }
  for (; i < n; i++) {
    store<f32>(
      out + ((<usize>i) << 2),
      sop(op, load<f32>(a + ((<usize>(i * as)) << 2)), load<f32>(b + ((<usize>(i * bs)) << 2))),
    );
  }
}

/**
 * Runs of a broadcast binary operation. The output is `runs` runs of n contiguous floats; run r's operands
 * start at sum_k index_k(r) * stride_k over up to three outer dimensions. A chunk is a piece of one long
 * run or a group of short runs.
 * Params: 0 op, 1 out, 2 a, 3 b, 4 n, 5 runs, 6 a step, 7 b step, 8-10 outer extents (outermost first),
 * 11-13 a strides, 14-16 b strides, 17 runs per chunk, 18 pieces per run, 19 piece length.
 */
export function binaryChunk(chunk: i32): void {
  const op = param(0);
  const n = param(4);
  const runs = param(5);
  const as = param(6);
  const bs = param(7);
  const e1 = param(9);
  const e2 = param(10);
  const pieces = param(18);
  let r0: i32;
  let r1: i32;
  let j0 = 0;
  let j1 = n;
  if (pieces > 1) {
    r0 = chunk / pieces;
    r1 = r0 + 1;
    const piece = param(19);
    j0 = (chunk % pieces) * piece;
    j1 = min<i32>(n, j0 + piece);
  } else {
    r0 = chunk * param(17);
    r1 = min<i32>(runs, r0 + param(17));
  }
  // Outer indices of run r0, then stepped run by run like an odometer.
  let i2 = r0 % e2;
  let i1 = (r0 / e2) % e1;
  const i0 = r0 / (e2 * e1);
  const a0 = param(11);
  const a1 = param(12);
  const a2 = param(13);
  const b0 = param(14);
  const b1 = param(15);
  const b2 = param(16);
  let aOff = i0 * a0 + i1 * a1 + i2 * a2 + j0 * as;
  let bOff = i0 * b0 + i1 * b1 + i2 * b2 + j0 * bs;
  const a = <usize>param(2);
  const b = <usize>param(3);
  let out = <usize>param(1) + ((<usize>r0 * <usize>n + <usize>j0) << 2);
  const runBytes = (<usize>n) << 2;
  const len = j1 - j0;
  // Short runs (a bias of C channels, a per-voxel value spread over channels) are dominated by the run
  // loop itself: whole vectors only, the operation chosen once per chunk.
  const short = len == n && (n & 3) == 0 && n <= 64;
  for (let r = r0; r < r1; r++) {
    const pa = a + ((<usize>aOff) << 2);
    const pb = b + ((<usize>bOff) << 2);
    if (short) {
      if (op == OP_ADD) {
        for (let j = 0; j < n; j += 4)
          v128.store(out + ((<usize>j) << 2), f32x4.add(lanes(pa, j, as), lanes(pb, j, bs)));
      } else if (op == OP_SUB) {
        for (let j = 0; j < n; j += 4)
          v128.store(out + ((<usize>j) << 2), f32x4.sub(lanes(pa, j, as), lanes(pb, j, bs)));
      } else if (op == OP_MUL) {
        for (let j = 0; j < n; j += 4)
          v128.store(out + ((<usize>j) << 2), f32x4.mul(lanes(pa, j, as), lanes(pb, j, bs)));
      } else {
        for (let j = 0; j < n; j += 4)
          v128.store(out + ((<usize>j) << 2), vop(op, lanes(pa, j, as), lanes(pb, j, bs)));
      }
    } else {
      binaryRun(op, out, pa, pb, len, as, bs);
    }
    out += runBytes;
    aOff += a2;
    bOff += b2;
    if (++i2 == e2) {
      i2 = 0;
      aOff += a1 - a2 * e2;
      bOff += b1 - b2 * e2;
      if (++i1 == e1) {
        i1 = 0;
        aOff += a0 - a1 * e1;
        bOff += b0 - b1 * e1;
      }
    }
  }
}

/** Four consecutive floats from j on, or the run's one value four times when the operand repeats. */
function lanes(p: usize, j: i32, step: i32): v128 {
  return step == 0 ? v128.load32_splat(p) : v128.load(p + ((<usize>j) << 2));
}

const U_RELU: i32 = 0;
const U_STEP: i32 = 1;
const U_SQUARE: i32 = 2;
const U_SQRT: i32 = 3;
const U_RSQRT: i32 = 4;
const U_NEG: i32 = 5;
const U_ABS: i32 = 6;
const U_RECIPROCAL: i32 = 7;
const U_CLIP: i32 = 8;
const U_EXP: i32 = 9;
const U_SIGMOID: i32 = 10;

/**
 * e^x to about 1 ulp (Cephes expf): x = n ln2 + r with |r| <= ln2/2, a degree-6 polynomial for e^r, and
 * 2^n built in two halves so results between 2^-149 and 2^-126 stay subnormal rather than flushing. Infinity
 * above 88.73, 0 below -103.98, NaN stays NaN.
 */
function vexp(x: v128): v128 {
  const t = f32x4.max(f32x4.min(x, f32x4.splat(89)), f32x4.splat(-104));
  const n = f32x4.nearest(f32x4.mul(t, f32x4.splat(1.44269504088896341)));
  let r = f32x4.sub(t, f32x4.mul(n, f32x4.splat(0.693359375)));
  r = f32x4.add(r, f32x4.mul(n, f32x4.splat(2.1219444e-4)));
  let p = f32x4.splat(1.98756915e-4);
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(1.3981999507e-3));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(8.3334519073e-3));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(4.1665795894e-2));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(1.6666665459e-1));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(5.0000001201e-1));
  p = f32x4.add(f32x4.add(f32x4.mul(f32x4.mul(p, r), r), r), f32x4.splat(1));
  const k = i32x4.trunc_sat_f32x4_s(n);
  const half = i32x4.shr_s(k, 1);
  const s1 = i32x4.shl(i32x4.add(half, i32x4.splat(127)), 23);
  const s2 = i32x4.shl(i32x4.add(i32x4.sub(k, half), i32x4.splat(127)), 23);
  const e = f32x4.mul(f32x4.mul(p, s1), s2);
  return v128.bitselect(x, e, f32x4.ne(x, x));
}

function uop(op: i32, x: v128, alpha: v128, beta: v128): v128 {
  if (op == U_RELU) return f32x4.max(x, f32x4.splat(0));
  if (op == U_STEP) {
    const positive = f32x4.gt(x, f32x4.splat(0));
    return v128.bitselect(f32x4.splat(1), v128.bitselect(x, alpha, f32x4.ne(x, x)), positive);
  }
  if (op == U_SQUARE) return f32x4.mul(x, x);
  if (op == U_SQRT) return f32x4.sqrt(x);
  if (op == U_RSQRT) return f32x4.div(f32x4.splat(1), f32x4.sqrt(x));
  if (op == U_NEG) return f32x4.neg(x);
  if (op == U_ABS) return f32x4.abs(x);
  if (op == U_RECIPROCAL) return f32x4.div(f32x4.splat(1), x);
  if (op == U_EXP) return vexp(x);
  if (op == U_SIGMOID) {
    // e^-|x| never overflows: 1 / (1 + e^-x) for x >= 0, e^x / (1 + e^x) below.
    const e = vexp(f32x4.neg(f32x4.abs(x)));
    const numerator = v128.bitselect(f32x4.splat(1), e, f32x4.ge(x, f32x4.splat(0)));
    return f32x4.div(numerator, f32x4.add(f32x4.splat(1), e));
  }
  // clip: above beta -> beta, below alpha -> alpha, NaN stays.
  const high = v128.bitselect(beta, x, f32x4.gt(x, beta));
  return v128.bitselect(alpha, high, f32x4.lt(x, alpha));
}

/** Params: 0 op, 1 out, 2 x, 3 n, 4 alpha (f32 bits), 5 beta (f32 bits), 6 floats per chunk (multiple of 4). */
export function unaryChunk(chunk: i32): void {
  const op = param(0);
  const n = param(3);
  const per = param(6);
  const i0 = chunk * per;
  const i1 = min<i32>(n, i0 + per);
  const alpha = f32x4.splat(reinterpret<f32>(param(4)));
  const beta = f32x4.splat(reinterpret<f32>(param(5)));
  const out = <usize>param(1);
  const x = <usize>param(2);
  let i = i0;
  for (; i + 4 <= i1; i += 4) {
    const at = (<usize>i) << 2;
    v128.store(out + at, uop(op, v128.load(x + at), alpha, beta));
  }
  for (; i < i1; i++) {
    const at = (<usize>i) << 2;
    store<f32>(out + at, f32x4.extract_lane(uop(op, f32x4.splat(load<f32>(x + at)), alpha, beta), 0));
  }
}

const R_SUM: i32 = 0;
const R_MAX: i32 = 1;
const R_MIN: i32 = 2;
const R_DOT: i32 = 3;

/**
 * x viewed as [K1][R][K2]. Rows mode (K2 = 1): chunk c reduces whole rows k1 into out (f32). Split mode:
 * chunk c covers rows [r0, r1) of one k1 and folds them into this thread's partial [K1][K2] (f64 for
 * sums, f32 for max and min), which the caller combines. R_DOT weights row r by w[r] (a row vector times
 * a matrix).
 * Params: 0 op, 1 x, 2 K1, 3 R, 4 K2, 5 out (rows mode) or partials of thread 0 (split mode), 6 bytes
 * between threads' partials, 7 split mode, 8 rows per chunk, 9 chunks per k1, 10 w.
 */
export function reduceChunk(chunk: i32, tid: i32): void {
  const op = param(0);
  const x = <usize>param(1);
  const R = param(3);
  const K2 = param(4);
  if (param(7) == 0) {
    const per = param(8);
    const k0 = chunk * per;
    const k1 = min<i32>(param(2), k0 + per);
    for (let k = k0; k < k1; k++) {
      store<f32>(<usize>param(5) + ((<usize>k) << 2), reduceRow(op, x + ((<usize>k * <usize>R) << 2), R));
    }
    return;
  }
  const chunksPerK1 = param(9);
  const k = chunk / chunksPerK1;
  const r0 = (chunk % chunksPerK1) * param(8);
  const r1 = min<i32>(R, r0 + param(8));
  const rowBytes = (<usize>K2) << 2;
  const dot = op == R_DOT;
  const w = <usize>param(10);
  const first = x + (<usize>k * <usize>R + <usize>r0) * rowBytes;
  // Four columns at a time, their running values in registers over the chunk's rows.
  if (op == R_SUM || dot) {
    const acc = <usize>param(5) + <usize>tid * <usize>param(6) + ((<usize>k * <usize>K2) << 3);
    let j = 0;
    for (; j + 4 <= K2; j += 4) {
      let lo = f64x2.splat(0);
      let hi = f64x2.splat(0);
      let src = first + ((<usize>j) << 2);
      for (let r = r0; r < r1; r++, src += rowBytes) {
        const v = v128.load(src);
        let vlo = f64x2.promote_low_f32x4(v);
        let vhi = f64x2.promote_low_f32x4(i32x4.shuffle(v, v, 2, 3, 0, 1));
        if (dot) {
          const weight = f64x2.splat(<f64>load<f32>(w + ((<usize>r) << 2)));
          vlo = f64x2.mul(vlo, weight);
          vhi = f64x2.mul(vhi, weight);
        }
        lo = f64x2.add(lo, vlo);
        hi = f64x2.add(hi, vhi);
      }
      const at = acc + ((<usize>j) << 3);
      v128.store(at, f64x2.add(v128.load(at), lo));
      v128.store(at, f64x2.add(v128.load(at, 16), hi), 16);
    }
    for (; j < K2; j++) {
      let sum: f64 = 0;
      let src = first + ((<usize>j) << 2);
      for (let r = r0; r < r1; r++, src += rowBytes) {
        const v = <f64>load<f32>(src);
        sum += dot ? v * <f64>load<f32>(w + ((<usize>r) << 2)) : v;
      }
      const at = acc + ((<usize>j) << 3);
      store<f64>(at, load<f64>(at) + sum);
    }
    return;
  }
  const acc = <usize>param(5) + <usize>tid * <usize>param(6) + ((<usize>k * <usize>K2) << 2);
  let j = 0;
  for (; j + 4 <= K2; j += 4) {
    const at = acc + ((<usize>j) << 2);
    let m = v128.load(at);
    let src = first + ((<usize>j) << 2);
    for (let r = r0; r < r1; r++, src += rowBytes) m = extreme(op, m, v128.load(src));
    v128.store(at, m);
  }
  for (; j < K2; j++) {
    const at = acc + ((<usize>j) << 2);
    let m = f32x4.splat(load<f32>(at));
    let src = first + ((<usize>j) << 2);
    for (let r = r0; r < r1; r++, src += rowBytes) m = extreme(op, m, f32x4.splat(load<f32>(src)));
    store<f32>(at, f32x4.extract_lane(m, 0));
  }
}

/** m where v neither beats it nor is NaN, else v: NaN wins, as in the cpu backend's loops. */
function extreme(op: i32, m: v128, v: v128): v128 {
  const beats = op == R_MAX ? f32x4.gt(v, m) : f32x4.lt(v, m);
  return v128.bitselect(v, m, v128.or(beats, f32x4.ne(v, v)));
}

function reduceRow(op: i32, src: usize, R: i32): f32 {
  if (op == R_SUM) {
    let s0 = f64x2.splat(0);
    let s1 = f64x2.splat(0);
    let j = 0;
    for (; j + 4 <= R; j += 4) {
      const v = v128.load(src + ((<usize>j) << 2));
      s0 = f64x2.add(s0, f64x2.promote_low_f32x4(v));
      s1 = f64x2.add(s1, f64x2.promote_low_f32x4(i32x4.shuffle(v, v, 2, 3, 0, 1)));
    }
    let s =
      f64x2.extract_lane(s0, 0) +
      f64x2.extract_lane(s0, 1) +
      f64x2.extract_lane(s1, 0) +
      f64x2.extract_lane(s1, 1);
    for (; j < R; j++) s += <f64>load<f32>(src + ((<usize>j) << 2));
    return <f32>s;
  }
  let m = f32x4.splat(op == R_MAX ? -Infinity : Infinity);
  let j = 0;
  for (; j + 4 <= R; j += 4) m = extreme(op, m, v128.load(src + ((<usize>j) << 2)));
  for (; j < R; j++) m = extreme(op, m, f32x4.splat(load<f32>(src + ((<usize>j) << 2))));
  let best = f32x4.splat(f32x4.extract_lane(m, 0));
  best = extreme(op, best, f32x4.splat(f32x4.extract_lane(m, 1)));
  best = extreme(op, best, f32x4.splat(f32x4.extract_lane(m, 2)));
  best = extreme(op, best, f32x4.splat(f32x4.extract_lane(m, 3)));
  return f32x4.extract_lane(best, 0);
}
