// Runs in: the process that trains networks. Reductions (Sum, Mean, Max, Min) over any axes without
// moving data: the cpu backend transposes the reduced axes to the end first, a slow generic 5-D copy, for
// every bias gradient and every instance-norm statistic. Sums accumulate in double precision like the cpu
// backend's, and a softmax over the last axis in one pass with the cpu backend's float32 roundings.

import {
  Max,
  Mean,
  Min,
  Softmax,
  Sum,
  util,
  type KernelConfig,
  type KernelFunc,
  type TensorInfo,
} from '@tensorflow/tfjs-core';
import type { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import { forEachRun, planBroadcast } from './broadcast.ts';
import type { WasmEngine } from './wasm-engine.ts';
import { expInPlace, reduceOp } from './wasm-ops.ts';

type Reducer = 'sum' | 'mean' | 'max' | 'min';

/** Max names its axes reductionIndices, the others axis; null means every axis. */
interface ReduceAttrs {
  axis?: number | number[] | null;
  reductionIndices?: number | number[] | null;
  keepDims: boolean;
}

function reduceKernel(engine: WasmEngine, kind: Reducer, fallback: KernelFunc): KernelFunc {
  return (args) => {
    const backend = args.backend as MathBackendCPU;
    const { x } = args.inputs as { x: TensorInfo };
    if (x.dtype !== 'float32') return fallback(args);
    const { axis, reductionIndices, keepDims } = args.attrs as unknown as ReduceAttrs;
    const axes = util.parseAxisParam(
      ((kind === 'max' ? reductionIndices : axis) ?? null) as number[],
      x.shape,
    );
    const kept = x.shape.map((n, i) => (axes.includes(i) ? 1 : n));
    const outShape = keepDims ? kept : x.shape.filter((_, i) => !axes.includes(i));
    // Broadcasting the output back over the input gives each input run its output offset.
    const plan = planBroadcast(x.shape, kept);
    if (plan === undefined) return fallback(args);
    const xv = backend.data.get(x.dataId).values as Float32Array;
    const size = kept.reduce((p, n) => p * n, 1);
    const fast = onEngine(engine, kind, xv, plan.dims, plan.bStrides);
    if (fast !== undefined) {
      if (kind === 'mean') {
        const count = xv.length / Math.max(1, size);
        for (let i = 0; i < fast.length; i++) fast[i] = fast[i]! / count;
      }
      return backend.makeTensorInfo(outShape, 'float32', fast);
    }
    const out = engine.newTensor(size, 'a reduction');
    if (kind === 'sum' || kind === 'mean') {
      const acc = new Float64Array(size);
      forEachRun(plan, (_o, a, b, n, _as, bs) => {
        if (bs === 0) {
          let s = 0;
          for (let i = 0; i < n; i++) s += xv[a + i]!;
          acc[b] = acc[b]! + s;
        } else {
          for (let i = 0; i < n; i++) acc[b + i] = acc[b + i]! + xv[a + i]!;
        }
      });
      const count = xv.length / Math.max(1, size);
      if (kind === 'mean') for (let i = 0; i < size; i++) out[i] = acc[i]! / count;
      else out.set(acc);
    } else {
      const sign = kind === 'max' ? 1 : -1;
      const acc = new Float32Array(size).fill(-sign * Infinity);
      // m = v when v is NaN or beats m, as the cpu backend's loop does.
      forEachRun(plan, (_o, a, b, n, _as, bs) => {
        if (bs === 0) {
          let m = acc[b]!;
          for (let i = 0; i < n; i++) {
            const v = xv[a + i]!;
            if (v !== v || sign * v > sign * m) m = v;
          }
          acc[b] = m;
        } else {
          for (let i = 0; i < n; i++) {
            const v = xv[a + i]!;
            const m = acc[b + i]!;
            if (v !== v || sign * v > sign * m) acc[b + i] = v;
          }
        }
      });
      out.set(acc);
    }
    return backend.makeTensorInfo(outShape, 'float32', out);
  };
}

/**
 * The reduction on the engine when the merged dimensions are [R], [K, R], [R, K] or [K, R, K] (R reduced,
 * K kept), which covers reducing any run of adjacent axes.
 */
function onEngine(
  engine: WasmEngine,
  kind: Reducer,
  x: Float32Array,
  dims: number[],
  outStrides: number[],
): Float32Array | undefined {
  const pattern = dims.map((_, i) => (outStrides[i] === 0 ? 'R' : 'K')).join('');
  const op = kind === 'mean' ? 'sum' : kind;
  const [d0, d1, d2] = dims as [number, number, number];
  if (pattern === 'R') return reduceOp(engine, op, x, 1, d0, 1);
  if (pattern === 'KR') return reduceOp(engine, op, x, d0, d1, 1);
  if (pattern === 'RK') return reduceOp(engine, op, x, 1, d0, d1);
  if (pattern === 'KRK') return reduceOp(engine, op, x, d0, d1, d2);
  return undefined;
}

/** Softmax over the last axis: exp(x - max) / sum, rounded to float32 where the cpu backend's kernels round. */
function softmax(engine: WasmEngine, fallback: KernelFunc): KernelFunc {
  return (args) => {
    const backend = args.backend as MathBackendCPU;
    const { logits } = args.inputs as { logits: TensorInfo };
    const dim = Number((args.attrs as { dim?: number }).dim ?? -1);
    const rank = logits.shape.length;
    if (logits.dtype !== 'float32' || rank === 0 || (dim !== -1 && dim !== rank - 1)) return fallback(args);
    const xv = backend.data.get(logits.dataId).values as Float32Array;
    const n = logits.shape[rank - 1] as number;
    const out = engine.newTensor(xv.length, 'a softmax');
    const fround = Math.fround;
    // x - max per row, then e^x over the whole tensor on the engine when it takes it, then the row sums.
    for (let row = 0; row < xv.length; row += n) {
      let m = -Infinity;
      for (let i = 0; i < n; i++) {
        const v = xv[row + i]!;
        if (v !== v || v > m) m = v;
      }
      for (let i = 0; i < n; i++) out[row + i] = xv[row + i]! - m;
    }
    if (!expInPlace(engine, out)) for (let i = 0; i < out.length; i++) out[i] = Math.exp(out[i]!);
    for (let row = 0; row < xv.length; row += n) {
      let s = 0;
      for (let i = 0; i < n; i++) s += out[row + i]!;
      const total = fround(s);
      for (let i = 0; i < n; i++) out[row + i] = out[row + i]! / total;
    }
    return backend.makeTensorInfo(logits.shape, 'float32', out);
  };
}

export function reduceKernels(
  engine: WasmEngine,
  fallback: Map<string, KernelFunc>,
  backendName: string,
): KernelConfig[] {
  const original = (name: string): KernelFunc => {
    const f = fallback.get(name);
    if (f === undefined) throw new Error(`tfjs cpu backend has no ${name} kernel`);
    return f;
  };
  return [
    { kernelName: Sum, backendName, kernelFunc: reduceKernel(engine, 'sum', original(Sum)) },
    { kernelName: Mean, backendName, kernelFunc: reduceKernel(engine, 'mean', original(Mean)) },
    { kernelName: Max, backendName, kernelFunc: reduceKernel(engine, 'max', original(Max)) },
    { kernelName: Min, backendName, kernelFunc: reduceKernel(engine, 'min', original(Min)) },
    { kernelName: Softmax, backendName, kernelFunc: softmax(engine, original(Softmax)) },
  ];
}
