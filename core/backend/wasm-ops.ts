// Runs in: the process that trains networks. Element-wise operations and reductions on the WebAssembly
// engine: SIMD on every thread, reading tensors in the heap in place. Each function returns undefined for
// what it does not take (small tensors, where starting the threads costs more than the loop; shapes that
// do not reduce to its loop structure), and the caller then runs its JavaScript loop.

import type { BroadcastPlan } from './broadcast.ts';
import {
  JOB_BINARY,
  JOB_MAX_POOL,
  JOB_MAX_POOL_GRAD,
  JOB_REDUCE,
  JOB_UNARY,
  type Scratch,
  type WasmEngine,
} from './wasm-engine.ts';

/** Below this many elements a JavaScript loop beats waking the helper threads. */
const MIN_ELEMENTS = 16384;
/** Floats one chunk of an element-wise job covers: large enough to amortise taking it, small enough to share. */
const CHUNK_FLOATS = 32768;

export const BINARY_OPS = {
  Add: 0,
  Sub: 1,
  Multiply: 2,
  RealDiv: 3,
  Maximum: 4,
  Minimum: 5,
  SquaredDifference: 6,
};
export const UNARY_OPS = {
  Relu: 0,
  Step: 1,
  Square: 2,
  Sqrt: 3,
  Rsqrt: 4,
  Neg: 5,
  Abs: 6,
  Reciprocal: 7,
  ClipByValue: 8,
  Exp: 9,
  Sigmoid: 10,
};
export type ReduceOp = 'sum' | 'max' | 'min' | 'dot';
const REDUCE_CODES: Record<ReduceOp, number> = { sum: 0, max: 1, min: 2, dot: 3 };

/** e^x in place over a tensor in the heap (the exponential step of a softmax); false when declined. */
export function expInPlace(engine: WasmEngine, values: Float32Array): boolean {
  const at = engine.addressOf(values);
  if (at === undefined || values.length < MIN_ELEMENTS) return false;
  engine.run(JOB_UNARY, Math.ceil(values.length / CHUNK_FLOATS), [
    UNARY_OPS.Exp,
    at,
    at,
    values.length,
    0,
    0,
    CHUNK_FLOATS,
  ]);
  return true;
}

/** The address of values for a job: in place when in the heap, else a scratch copy. */
function addressFor(engine: WasmEngine, scratch: Scratch, values: Float32Array): number {
  const at = engine.addressOf(values);
  if (at !== undefined) return at;
  const copy = scratch.alloc(values.length * 4, 'an operand outside the heap');
  engine.f32.set(values, copy / 4);
  return copy;
}

/** Runs `fill(address)` into a new tensor, staging the result when the tensor is outside the heap. */
function intoTensor(
  engine: WasmEngine,
  scratch: Scratch,
  length: number,
  purpose: string,
  fill: (address: number) => void,
): Float32Array {
  return engine.newTensorFilled(length, purpose, (out) => {
    const at = engine.addressOf(out);
    if (at !== undefined) {
      fill(at);
      return;
    }
    const staged = scratch.alloc(length * 4, purpose);
    fill(staged);
    out.set(engine.f32.subarray(staged / 4, staged / 4 + length));
  });
}

export function binaryOp(
  engine: WasmEngine,
  op: number,
  a: Float32Array,
  b: Float32Array,
  plan: BroadcastPlan,
): Float32Array | undefined {
  const { dims, aStrides, bStrides } = plan;
  const size = dims.reduce((p, d) => p * d, 1);
  const depth = dims.length - 1;
  const aStep = aStrides[depth] as number;
  const bStep = bStrides[depth] as number;
  if (size < MIN_ELEMENTS || dims.length > 4 || (aStep === 0 && bStep === 0)) return undefined;
  const n = dims[depth] as number;
  const runs = size / n;
  const pad = 4 - dims.length;
  const outer = (k: number, of: number[], missing: number): number =>
    k < pad ? missing : (of[k - pad] as number);
  let pieces = 1;
  let runsPerChunk = 1;
  let chunks: number;
  if (n >= 2 * CHUNK_FLOATS) {
    pieces = Math.ceil(n / CHUNK_FLOATS);
    chunks = runs * pieces;
  } else {
    runsPerChunk = Math.max(1, Math.floor(CHUNK_FLOATS / n));
    chunks = Math.ceil(runs / runsPerChunk);
  }
  const scratch = engine.scratch();
  try {
    const aAt = addressFor(engine, scratch, a);
    const bAt = addressFor(engine, scratch, b);
    return intoTensor(engine, scratch, size, 'an element-wise operation', (out) =>
      engine.run(JOB_BINARY, chunks, [
        op,
        out,
        aAt,
        bAt,
        n,
        runs,
        aStep,
        bStep,
        outer(0, dims, 1),
        outer(1, dims, 1),
        outer(2, dims, 1),
        outer(0, aStrides, 0),
        outer(1, aStrides, 0),
        outer(2, aStrides, 0),
        outer(0, bStrides, 0),
        outer(1, bStrides, 0),
        outer(2, bStrides, 0),
        runsPerChunk,
        pieces,
        CHUNK_FLOATS,
      ]),
    );
  } finally {
    scratch.release();
  }
}

const f32Bits = new Int32Array(1);
const f32Value = new Float32Array(f32Bits.buffer);
function bitsOf(value: number): number {
  f32Value[0] = value;
  return f32Bits[0] as number;
}

export function unaryOp(
  engine: WasmEngine,
  op: number,
  x: Float32Array,
  alpha = 0,
  beta = 0,
): Float32Array | undefined {
  if (x.length < MIN_ELEMENTS) return undefined;
  const scratch = engine.scratch();
  try {
    const xAt = addressFor(engine, scratch, x);
    return intoTensor(engine, scratch, x.length, 'an element-wise operation', (out) =>
      engine.run(JOB_UNARY, Math.ceil(x.length / CHUNK_FLOATS), [
        op,
        out,
        xAt,
        x.length,
        bitsOf(alpha),
        bitsOf(beta),
        CHUNK_FLOATS,
      ]),
    );
  } finally {
    scratch.release();
  }
}

/**
 * Reduces x viewed as [K1][R][K2] over R into [K1][K2]: sums in double precision; max and min with NaN
 * winning; 'dot' weights row r by w[r] (a row vector times a [R][K2] matrix).
 */
export function reduceOp(
  engine: WasmEngine,
  op: ReduceOp,
  x: Float32Array,
  K1: number,
  R: number,
  K2: number,
  w?: Float32Array,
): Float32Array | undefined {
  if (x.length < MIN_ELEMENTS || R === 0) return undefined;
  const outSize = K1 * K2;
  const threads = engine.threads;
  const scratch = engine.scratch();
  try {
    const xAt = addressFor(engine, scratch, x);
    const wAt = w === undefined ? 0 : addressFor(engine, scratch, w);
    const code = REDUCE_CODES[op];
    if (K2 === 1 && K1 >= 4 * threads) {
      const per = Math.max(1, Math.floor(CHUNK_FLOATS / R));
      return intoTensor(engine, scratch, outSize, 'a reduction', (out) =>
        engine.run(JOB_REDUCE, Math.ceil(K1 / per), [code, xAt, K1, R, K2, out, 0, 0, per, 0, wAt]),
      );
    }
    if (outSize > 1 << 20) return undefined;
    const wide = op === 'sum' || op === 'dot';
    const partialBytes = outSize * (wide ? 8 : 4);
    const partials = scratch.alloc(partialBytes * threads, 'partial sums of a reduction');
    if (wide) new Float64Array(engine.f32.buffer, partials, outSize * threads).fill(0);
    else engine.f32.fill(op === 'max' ? -Infinity : Infinity, partials / 4, partials / 4 + outSize * threads);
    const rowsPerChunk = Math.max(1, Math.floor(CHUNK_FLOATS / K2));
    const chunksPerK1 = Math.ceil(R / rowsPerChunk);
    engine.run(JOB_REDUCE, K1 * chunksPerK1, [
      code,
      xAt,
      K1,
      R,
      K2,
      partials,
      partialBytes,
      1,
      rowsPerChunk,
      chunksPerK1,
      wAt,
    ]);
    const out = engine.newTensor(outSize, 'a reduction');
    if (wide) {
      const parts = new Float64Array(engine.f32.buffer, partials, outSize * threads);
      for (let i = 0; i < outSize; i++) {
        let s = 0;
        for (let t = 0; t < threads; t++) s += parts[t * outSize + i] as number;
        out[i] = s;
      }
    } else {
      const parts = engine.f32.subarray(partials / 4, partials / 4 + outSize * threads);
      const sign = op === 'max' ? 1 : -1;
      for (let i = 0; i < outSize; i++) {
        let m = parts[i] as number;
        for (let t = 1; t < threads; t++) {
          const v = parts[t * outSize + i] as number;
          if (v !== v || sign * v > sign * m) m = v;
        }
        out[i] = m;
      }
    }
    return out;
  } finally {
    scratch.release();
  }
}

/** Extents of a max-pool whose windows tile the input: [B, D, H, W, C] and the window [fd, fh, fw]. */
export interface PoolShape {
  B: number;
  D: number;
  H: number;
  W: number;
  C: number;
  fd: number;
  fh: number;
  fw: number;
}

function poolParams(p: PoolShape, x: number, y: number, dx: number): number[] {
  const outD = Math.floor(p.D / p.fd);
  const outH = Math.floor(p.H / p.fh);
  const outW = Math.floor(p.W / p.fw);
  return [x, y, dx, p.D, p.H, p.W, p.C, p.fd, p.fh, p.fw, outD, outH, outW];
}

/** The max-pool's output, or undefined for a small input. */
export function maxPoolOp(engine: WasmEngine, x: Float32Array, p: PoolShape): Float32Array | undefined {
  if (x.length < MIN_ELEMENTS) return undefined;
  const outD = Math.floor(p.D / p.fd);
  const size = p.B * outD * Math.floor(p.H / p.fh) * Math.floor(p.W / p.fw) * p.C;
  const scratch = engine.scratch();
  try {
    const xAt = addressFor(engine, scratch, x);
    return intoTensor(engine, scratch, size, 'a max-pool', (out) =>
      engine.run(JOB_MAX_POOL, p.B * outD, poolParams(p, xAt, out, 0)),
    );
  } finally {
    scratch.release();
  }
}

/** The max-pool's input gradient given its input and dy, or undefined for a small input. */
export function maxPoolGradOp(
  engine: WasmEngine,
  x: Float32Array,
  dy: Float32Array,
  p: PoolShape,
): Float32Array | undefined {
  if (x.length < MIN_ELEMENTS) return undefined;
  const scratch = engine.scratch();
  try {
    const xAt = addressFor(engine, scratch, x);
    const dyAt = addressFor(engine, scratch, dy);
    const covered = p.D % p.fd === 0 && p.H % p.fh === 0 && p.W % p.fw === 0;
    return intoTensor(engine, scratch, x.length, 'a max-pool gradient', (dx) => {
      // Voxels beyond the last whole window get no gradient and are not written by the kernel.
      if (!covered) engine.f32.fill(0, dx / 4, dx / 4 + x.length);
      engine.run(JOB_MAX_POOL_GRAD, p.B * Math.floor(p.D / p.fd), poolParams(p, xAt, dyAt, dx));
    });
  } finally {
    scratch.release();
  }
}
