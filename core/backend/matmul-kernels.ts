// Runs in: the process that trains networks. BatchMatMul: large products on the WebAssembly engine (as
// 1x1x1 convolutions), thin ones (a row of ones times [V, C] for a mean over voxels, a column times a row
// to spread per-channel values, as core/nn's instance norm does) as streaming loops with double-precision
// sums. The cpu backend's blocked triple loop took seconds per training step on those shapes.

import { BatchMatMul, type KernelConfig, type KernelFunc, type TensorInfo } from '@tensorflow/tfjs-core';
import type { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import { convForward } from './conv3d.ts';
import type { WasmEngine } from './wasm-engine.ts';
import { planBroadcast } from './broadcast.ts';
import { BINARY_OPS, binaryOp, reduceOp } from './wasm-ops.ts';

/** Below this many multiply-adds per batch item a product stays in JavaScript. */
const WASM_MIN_WORK = 1 << 18;

interface Operand {
  values: Float32Array;
  batch: number;
  /** Element strides within one batch item: along the output's rows/columns and along the shared axis. */
  outer: number;
  inner: number;
}

function operand(values: Float32Array, shape: number[], transposed: boolean, forA: boolean): Operand {
  const rank = shape.length;
  const rows = shape[rank - 2] as number;
  const cols = shape[rank - 1] as number;
  const batch = values.length / Math.max(1, rows * cols);
  // A is [M, K] (or [K, M] transposed); B is [K, N] (or [N, K]).
  const outerIsRows = forA !== transposed;
  return { values, batch, outer: outerIsRows ? cols : 1, inner: outerIsRows ? 1 : cols };
}

export function matmulKernels(
  engine: WasmEngine,
  fallback: Map<string, KernelFunc>,
  backendName: string,
): KernelConfig[] {
  const original = fallback.get(BatchMatMul);
  if (original === undefined) throw new Error('tfjs cpu backend has no BatchMatMul kernel');

  const batchMatMul: KernelFunc = (args) => {
    const backend = args.backend as MathBackendCPU;
    const { a, b } = args.inputs as { a: TensorInfo; b: TensorInfo };
    const { transposeA, transposeB } = args.attrs as { transposeA: boolean; transposeB: boolean };
    const ra = a.shape.length;
    const rb = b.shape.length;
    if (a.dtype !== 'float32' || b.dtype !== 'float32' || ra !== 3 || rb !== 3) return original(args);
    const M = (transposeA ? a.shape[2] : a.shape[1]) as number;
    const K = (transposeA ? a.shape[1] : a.shape[2]) as number;
    const N = (transposeB ? b.shape[1] : b.shape[2]) as number;
    const Kb = (transposeB ? b.shape[2] : b.shape[1]) as number;
    const ba = a.shape[0] as number;
    const bb = b.shape[0] as number;
    if (K !== Kb || (ba !== bb && ba !== 1 && bb !== 1)) return original(args);
    const av = backend.data.get(a.dataId).values as Float32Array;
    const bv = backend.data.get(b.dataId).values as Float32Array;
    const batch = Math.max(ba, bb);
    if (K === 1) {
      // An outer product: with one shared element a transposed operand has the same layout.
      const plan = planBroadcast([ba, M, 1], [bb, 1, N]);
      const outer = plan === undefined ? undefined : binaryOp(engine, BINARY_OPS.Multiply, av, bv, plan);
      if (outer !== undefined) return backend.makeTensorInfo([batch, M, N], 'float32', outer);
    }
    if (M === 1 && !transposeB && ba === bb) {
      const rows = vectorTimesMatrix(engine, av, bv, batch, K, N);
      if (rows !== undefined) return backend.makeTensorInfo([batch, M, N], 'float32', rows);
    }
    const A = operand(av, a.shape, transposeA, true);
    const B = operand(bv, b.shape, transposeB, false);
    const out = engine.newTensorFilled(batch * M * N, 'a matrix product', (product) => {
      for (let i = 0; i < batch; i++) {
        const aAt = (i % ba) * M * K;
        const bAt = (i % bb) * K * N;
        if (M >= 16 && N >= 4 && M * N * K >= WASM_MIN_WORK) {
          const part = wasmProduct(engine, A, aAt, B, bAt, M, K, N);
          product.set(part, i * M * N);
          engine.release(part);
        } else {
          streamProduct(A, aAt, B, bAt, M, K, N, product, i * M * N);
        }
      }
    });
    return backend.makeTensorInfo([batch, M, N], 'float32', out);
  };

  return [{ kernelName: BatchMatMul, backendName, kernelFunc: batchMatMul }];
}

/** Each batch item's row [1, K] times its [K, N] matrix on the engine, or undefined if it declines. */
function vectorTimesMatrix(
  engine: WasmEngine,
  a: Float32Array,
  b: Float32Array,
  batch: number,
  K: number,
  N: number,
): Float32Array | undefined {
  if (batch === 1) return reduceOp(engine, 'dot', b, 1, K, N, a);
  let declined = false;
  const out = engine.newTensorFilled(batch * N, 'a matrix product', (rows) => {
    for (let i = 0; i < batch && !declined; i++) {
      const part = b.subarray(i * K * N, (i + 1) * K * N);
      const row = reduceOp(engine, 'dot', part, 1, K, N, a.subarray(i * K, (i + 1) * K));
      if (row === undefined) {
        declined = true;
      } else {
        rows.set(row, i * N);
        engine.release(row);
      }
    }
  });
  if (!declined) return out;
  engine.release(out);
  return undefined;
}

/** out[m, :] = sum_k A[m, k] B[k, :], accumulated in double precision one output row at a time. */
function streamProduct(
  A: Operand,
  aAt: number,
  B: Operand,
  bAt: number,
  M: number,
  K: number,
  N: number,
  out: Float32Array,
  at: number,
): void {
  const av = A.values;
  const bv = B.values;
  const row = new Float64Array(N);
  for (let m = 0; m < M; m++) {
    row.fill(0);
    let ak = aAt + m * A.outer;
    let bk = bAt;
    for (let k = 0; k < K; k++, ak += A.inner, bk += B.inner) {
      const s = av[ak]!;
      for (let n = 0, j = bk; n < N; n++, j += B.outer) row[n] = row[n]! + s * bv[j]!;
    }
    for (let n = 0; n < N; n++) out[at + m * N + n] = row[n]!;
  }
}

function wasmProduct(
  engine: WasmEngine,
  A: Operand,
  aAt: number,
  B: Operand,
  bAt: number,
  M: number,
  K: number,
  N: number,
): Float32Array {
  const left = contiguous(A, aAt, M, K);
  const right = contiguous(B, bAt, K, N, true);
  return convForward(engine, left, right, {
    batch: 1,
    inD: 1,
    inH: 1,
    inW: M,
    inC: K,
    outD: 1,
    outH: 1,
    outW: M,
    outC: N,
    kd: 1,
    kh: 1,
    kw: 1,
    sd: 1,
    sh: 1,
    sw: 1,
    pd: 0,
    ph: 0,
    pw: 0,
  });
}

/** The operand's matrix as row-major [rows][cols] (for B, rows are the shared axis). */
function contiguous(op: Operand, at: number, rows: number, cols: number, isB = false): Float32Array {
  const rowStride = isB ? op.inner : op.outer;
  const colStride = isB ? op.outer : op.inner;
  if (colStride === 1 && rowStride === cols) return op.values.subarray(at, at + rows * cols);
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) out[r * cols + c] = op.values[at + r * rowStride + c * colStride]!;
  }
  return out;
}
