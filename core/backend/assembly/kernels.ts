// Runs in: the training process's thread and the engine's helper threads, as WebAssembly compiled by
// AssemblyScript (`npm run build:wasm`). The compute kernels of the fast CPU backend: 3D convolution
// forward and filter gradient as register-tiled SIMD matrix products read straight from a padded input
// (no im2col), layout moves, and the job protocol that splits each kernel over threads sharing one memory.
//
// Memory is imported, shared and owned by JavaScript: this module allocates nothing. Bytes 0..1023 hold
// the job control block and parameters, 1024..65535 a small scratch area per thread; JavaScript places
// tensors above 64 KiB. The source is written in the TypeScript subset AssemblyScript accepts without
// decorators, so the project's formatter can read it.

const GATE: usize = 0; // even: closed, odd: a job is open; +1 on every open and close
const ACTIVE: usize = 4; // threads currently inside the open job
const NEXT: usize = 8; // next chunk to hand out
const TOTAL: usize = 12; // chunks in the open job
const SHUTDOWN: usize = 16;
const KIND: usize = 20;
// 24: set by a helper's JavaScript when its kernel trapped, cleared by the caller that reports it.
const PARAMS: usize = 64; // 64 i32 parameters of the open job
const SCRATCH: usize = 1024;
const SCRATCH_PER_THREAD: usize = 4096;

const KIND_PAD: i32 = 1;
const KIND_CONV: i32 = 2;
const KIND_FILTER_GRAD: i32 = 3;
const KIND_SCATTER: i32 = 4;
const KIND_BINARY: i32 = 5;
const KIND_UNARY: i32 = 6;
const KIND_REDUCE: i32 = 7;
const KIND_MAX_POOL: i32 = 8;
const KIND_MAX_POOL_GRAD: i32 = 9;

function param(i: i32): i32 {
  return load<i32>(PARAMS + ((<usize>i) << 2));
}

function scratch(tid: i32): usize {
  return SCRATCH + <usize>tid * SCRATCH_PER_THREAD;
}

// ---------------------------------------------------------------------------------------------------
// Job protocol. The calling thread opens a job, works on it as thread 0 and closes it; helper threads
// join while it is open and take chunks from a shared counter, so a helper that is late (the machine is
// shared) costs nothing but its absence. A helper joins only after announcing itself in ACTIVE and
// re-checking the gate, so the caller never rewrites a job's parameters under a working helper.

function work(tid: i32): void {
  const kind = load<i32>(KIND);
  const total = atomic.load<i32>(TOTAL);
  while (true) {
    const chunk = atomic.add<i32>(NEXT, 1);
    if (chunk >= total) return;
    if (kind == KIND_PAD) padChunk(chunk);
    else if (kind == KIND_CONV) convChunk(chunk, tid);
    else if (kind == KIND_FILTER_GRAD) filterGradChunk(chunk, tid);
    else if (kind == KIND_SCATTER) scatterChunk(chunk);
    else if (kind == KIND_BINARY) binaryChunk(chunk);
    else if (kind == KIND_UNARY) unaryChunk(chunk);
    else if (kind == KIND_REDUCE) reduceChunk(chunk, tid);
    else if (kind == KIND_MAX_POOL) maxPoolChunk(chunk, false);
    else if (kind == KIND_MAX_POOL_GRAD) maxPoolChunk(chunk, true);
  }
}

/** Runs the job whose parameters JavaScript has written, on this thread and any helper that joins. */
export function run(kind: i32, total: i32): void {
  store<i32>(KIND, kind);
  atomic.store<i32>(TOTAL, total);
  atomic.store<i32>(NEXT, 0);
  const open = atomic.load<i32>(GATE) + 1;
  atomic.store<i32>(GATE, open);
  atomic.notify(GATE, -1);
  work(0);
  atomic.store<i32>(GATE, open + 1);
  let spins = 0;
  while (true) {
    const active = atomic.load<i32>(ACTIVE);
    if (active == 0) break;
    if (++spins < 100000) continue;
    memory.atomic.wait32(ACTIVE, active, 1000000);
  }
}

/** A helper thread's whole life: wait for open jobs, help, until shutdown. `spin` bounds busy-waiting. */
export function helperLoop(tid: i32, spin: i32): void {
  let done = atomic.load<i32>(GATE);
  while (true) {
    if (atomic.load<i32>(SHUTDOWN) != 0) return;
    const gate = atomic.load<i32>(GATE);
    if ((gate & 1) == 0 || gate == done) {
      let spins = 0;
      while (spins < spin && atomic.load<i32>(GATE) == gate) spins++;
      if (spins >= spin) memory.atomic.wait32(GATE, gate, -1);
      continue;
    }
    done = gate;
    atomic.add<i32>(ACTIVE, 1);
    if (atomic.load<i32>(GATE) == gate) work(tid);
    atomic.sub<i32>(ACTIVE, 1);
    atomic.notify(ACTIVE, 1);
  }
}

/** After the calling thread trapped inside a job: closes it and waits for the helpers to leave it. */
export function recover(): void {
  const gate = atomic.load<i32>(GATE);
  if ((gate & 1) == 1) atomic.store<i32>(GATE, gate + 1);
  while (true) {
    const active = atomic.load<i32>(ACTIVE);
    if (active == 0) return;
    memory.atomic.wait32(ACTIVE, active, 1000000);
  }
}

/** Ends every helper loop. */
export function shutdown(): void {
  atomic.store<i32>(SHUTDOWN, 1);
  atomic.add<i32>(GATE, 2);
  atomic.notify(GATE, -1);
}

// ---------------------------------------------------------------------------------------------------
// Layout moves.

/**
 * Copies a compact [D][H][W][C] block into a zeroed [Dp][Hp][Wp][Cp] block at offset (od, oh, ow),
 * cropping whatever falls outside. One chunk per destination plane.
 * Params: 0 src, 1 D, 2 H, 3 W, 4 C, 5 dst, 6 Dp, 7 Hp, 8 Wp, 9 Cp, 10 od, 11 oh, 12 ow.
 */
function padChunk(pd: i32): void {
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
function scatterChunk(d: i32): void {
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
 * a * b + c. Fused where the engine enables relaxed SIMD (one rounding; about 1.3x faster convolutions
 * measured on V8 11.3), else a multiply and an add: kernels.wasm and kernels-relaxed.wasm are this one
 * source compiled both ways.
 */
function madd(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, c);
  return f32x4.add(f32x4.mul(a, b), c);
}

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
function convChunk(chunk: i32, tid: i32): void {
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
function filterGradChunk(chunk: i32, tid: i32): void {
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

// ---------------------------------------------------------------------------------------------------
// Element-wise operations and reductions on float32 tensors in the heap.

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
function binaryChunk(chunk: i32): void {
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
  // clip: above beta -> beta, below alpha -> alpha, NaN stays.
  const high = v128.bitselect(beta, x, f32x4.gt(x, beta));
  return v128.bitselect(alpha, high, f32x4.lt(x, alpha));
}

/** Params: 0 op, 1 out, 2 x, 3 n, 4 alpha (f32 bits), 5 beta (f32 bits), 6 floats per chunk (multiple of 4). */
function unaryChunk(chunk: i32): void {
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
function reduceChunk(chunk: i32, tid: i32): void {
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

// ---------------------------------------------------------------------------------------------------
// Max-pooling with windows that tile the input (stride equal to window, no padding).

/**
 * One output plane (batch item and output depth) of a max-pool, or of its gradient: dx gets dy at the last
 * maximal voxel of each window in scan order and 0 elsewhere in it, as the cpu backend's gradient; NaN
 * never wins the forward pass and never takes a gradient.
 * Params: 0 x, 1 y (forward) or dy, 2 dx, 3 D, 4 H, 5 W, 6 C, 7 fd, 8 fh, 9 fw, 10 outD, 11 outH, 12 outW.
 */
function maxPoolChunk(chunk: i32, gradient: bool): void {
  const x = <usize>param(0);
  const D = param(3);
  const H = param(4);
  const W = param(5);
  const C = param(6);
  const fd = param(7);
  const fh = param(8);
  const fw = param(9);
  const outD = param(10);
  const outH = param(11);
  const outW = param(12);
  const b = chunk / outD;
  const od = chunk % outD;
  const voxelBytes = (<usize>C) << 2;
  for (let oh = 0; oh < outH; oh++) {
    for (let ow = 0; ow < outW; ow++) {
      const o =
        <usize>param(1) +
        (((<usize>((b * outD + od) * outH + oh) * <usize>outW + <usize>ow) * <usize>C) << 2);
      const corner = (<usize>((b * D + od * fd) * H + oh * fh) * <usize>W + <usize>(ow * fw)) * voxelBytes;
      for (let c = 0; c < C; c += 4) {
        const lanes = min<i32>(4, C - c);
        const at = (<usize>c) << 2;
        let best = f32x4.splat(-Infinity);
        let where = i32x4.splat(-1);
        let position = 0;
        for (let a = 0; a < fd; a++) {
          for (let r = 0; r < fh; r++) {
            for (let q = 0; q < fw; q++, position++) {
              const p = x + corner + (<usize>(a * H + r) * <usize>W + <usize>q) * voxelBytes + at;
              const v = lanes == 4 ? v128.load(p) : partialLoad(p, lanes);
              const wins = gradient ? f32x4.ge(v, best) : f32x4.gt(v, best);
              best = v128.bitselect(v, best, wins);
              where = v128.bitselect(i32x4.splat(position), where, wins);
            }
          }
        }
        if (!gradient) {
          partialStore(o + at, best, lanes);
          continue;
        }
        const g = lanes == 4 ? v128.load(o + at) : partialLoad(o + at, lanes);
        position = 0;
        for (let a = 0; a < fd; a++) {
          for (let r = 0; r < fh; r++) {
            for (let q = 0; q < fw; q++, position++) {
              const mine = i32x4.eq(where, i32x4.splat(position));
              const p =
                <usize>param(2) + corner + (<usize>(a * H + r) * <usize>W + <usize>q) * voxelBytes + at;
              partialStore(p, v128.and(g, mine), lanes);
            }
          }
        }
      }
    }
  }
}

/** The first `lanes` (1 to 3) floats at p, the rest zero. */
function partialLoad(p: usize, lanes: i32): v128 {
  let v = f32x4.splat(0);
  v = f32x4.replace_lane(v, 0, load<f32>(p));
  if (lanes > 1) v = f32x4.replace_lane(v, 1, load<f32>(p, 4));
  if (lanes > 2) v = f32x4.replace_lane(v, 2, load<f32>(p, 8));
  return v;
}

function partialStore(p: usize, v: v128, lanes: i32): void {
  if (lanes == 4) {
    v128.store(p, v);
    return;
  }
  store<f32>(p, f32x4.extract_lane(v, 0));
  if (lanes > 1) store<f32>(p, f32x4.extract_lane(v, 1), 4);
  if (lanes > 2) store<f32>(p, f32x4.extract_lane(v, 2), 8);
}
