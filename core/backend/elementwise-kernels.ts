// Runs in: the process that trains networks. Element-wise tfjs kernels as tight loops over float32 data:
// broadcasting arithmetic (bias adds, instance norm's per-channel statistics, gradient sums), comparisons,
// selection and the unary functions training uses. The cpu backend's versions call a closure per element
// and compute every broadcast index from scratch, which made them the bulk of a training step. Results are
// bit-identical to the cpu backend's; other dtypes go to its kernels.

import {
  Abs,
  Add,
  AddN,
  ClipByValue,
  Equal,
  Exp,
  Greater,
  GreaterEqual,
  Less,
  LessEqual,
  Log,
  LogicalAnd,
  LogicalOr,
  Maximum,
  Minimum,
  Multiply,
  Neg,
  NotEqual,
  RealDiv,
  Reciprocal,
  Relu,
  Rsqrt,
  Select,
  Sigmoid,
  Sqrt,
  Square,
  SquaredDifference,
  Step,
  Sub,
  type KernelConfig,
  type KernelFunc,
  type TensorInfo,
} from '@tensorflow/tfjs-core';
import type { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import { forEachRun, planBroadcast } from './broadcast.ts';
import type { WasmEngine } from './wasm-engine.ts';
import { BINARY_OPS, UNARY_OPS, binaryOp, unaryOp } from './wasm-ops.ts';

type Values = Float32Array | Uint8Array;
type Run<A extends Values, O extends Values> = (
  out: O,
  a: A,
  b: A,
  o: number,
  ai: number,
  bi: number,
  n: number,
  as: number,
  bs: number,
) => void;

const arithmetic: Record<string, Run<Float32Array, Float32Array>> = {
  [Add]: (out, a, b, o, ai, bi, n, as, bs) => {
    for (let i = 0; i < n; i++, ai += as, bi += bs) out[o + i] = a[ai]! + b[bi]!;
  },
  [Sub]: (out, a, b, o, ai, bi, n, as, bs) => {
    for (let i = 0; i < n; i++, ai += as, bi += bs) out[o + i] = a[ai]! - b[bi]!;
  },
  [Multiply]: (out, a, b, o, ai, bi, n, as, bs) => {
    for (let i = 0; i < n; i++, ai += as, bi += bs) out[o + i] = a[ai]! * b[bi]!;
  },
  [RealDiv]: (out, a, b, o, ai, bi, n, as, bs) => {
    for (let i = 0; i < n; i++, ai += as, bi += bs) out[o + i] = a[ai]! / b[bi]!;
  },
  [Maximum]: (out, a, b, o, ai, bi, n, as, bs) => {
    for (let i = 0; i < n; i++, ai += as, bi += bs) out[o + i] = Math.max(a[ai]!, b[bi]!);
  },
  [Minimum]: (out, a, b, o, ai, bi, n, as, bs) => {
    for (let i = 0; i < n; i++, ai += as, bi += bs) out[o + i] = Math.min(a[ai]!, b[bi]!);
  },
  [SquaredDifference]: (out, a, b, o, ai, bi, n, as, bs) => {
    for (let i = 0; i < n; i++, ai += as, bi += bs) {
      const d = a[ai]! - b[bi]!;
      out[o + i] = d * d;
    }
  },
};

const comparisons: Record<string, Run<Float32Array, Uint8Array>> = {
  [Greater]: (out, a, b, o, ai, bi, n, as, bs) => {
    for (let i = 0; i < n; i++, ai += as, bi += bs) out[o + i] = a[ai]! > b[bi]! ? 1 : 0;
  },
  [GreaterEqual]: (out, a, b, o, ai, bi, n, as, bs) => {
    for (let i = 0; i < n; i++, ai += as, bi += bs) out[o + i] = a[ai]! >= b[bi]! ? 1 : 0;
  },
  [Less]: (out, a, b, o, ai, bi, n, as, bs) => {
    for (let i = 0; i < n; i++, ai += as, bi += bs) out[o + i] = a[ai]! < b[bi]! ? 1 : 0;
  },
  [LessEqual]: (out, a, b, o, ai, bi, n, as, bs) => {
    for (let i = 0; i < n; i++, ai += as, bi += bs) out[o + i] = a[ai]! <= b[bi]! ? 1 : 0;
  },
  [Equal]: (out, a, b, o, ai, bi, n, as, bs) => {
    for (let i = 0; i < n; i++, ai += as, bi += bs) out[o + i] = a[ai]! === b[bi]! ? 1 : 0;
  },
  [NotEqual]: (out, a, b, o, ai, bi, n, as, bs) => {
    for (let i = 0; i < n; i++, ai += as, bi += bs) out[o + i] = a[ai]! !== b[bi]! ? 1 : 0;
  },
};

const logical: Record<string, Run<Uint8Array, Uint8Array>> = {
  [LogicalAnd]: (out, a, b, o, ai, bi, n, as, bs) => {
    for (let i = 0; i < n; i++, ai += as, bi += bs) out[o + i] = a[ai]! && b[bi]! ? 1 : 0;
  },
  [LogicalOr]: (out, a, b, o, ai, bi, n, as, bs) => {
    for (let i = 0; i < n; i++, ai += as, bi += bs) out[o + i] = a[ai]! || b[bi]! ? 1 : 0;
  },
};

type Unary = (out: Float32Array, x: Float32Array, attrs: Record<string, unknown>) => void;

const unary: Record<string, Unary> = {
  [Relu]: (out, x) => {
    for (let i = 0; i < x.length; i++) out[i] = Math.max(0, x[i]!);
  },
  [Step]: (out, x, attrs) => {
    const alpha = Number(attrs['alpha'] ?? 0);
    for (let i = 0; i < x.length; i++) {
      const v = x[i]!;
      out[i] = v > 0 ? 1 : v !== v ? NaN : alpha;
    }
  },
  [Square]: (out, x) => {
    for (let i = 0; i < x.length; i++) out[i] = x[i]! * x[i]!;
  },
  [Sqrt]: (out, x) => {
    for (let i = 0; i < x.length; i++) out[i] = Math.sqrt(x[i]!);
  },
  [Rsqrt]: (out, x) => {
    for (let i = 0; i < x.length; i++) out[i] = 1 / Math.sqrt(x[i]!);
  },
  [Reciprocal]: (out, x) => {
    for (let i = 0; i < x.length; i++) out[i] = 1 / x[i]!;
  },
  [Exp]: (out, x) => {
    for (let i = 0; i < x.length; i++) out[i] = Math.exp(x[i]!);
  },
  [Log]: (out, x) => {
    for (let i = 0; i < x.length; i++) out[i] = Math.log(x[i]!);
  },
  [Neg]: (out, x) => {
    for (let i = 0; i < x.length; i++) out[i] = -x[i]!;
  },
  [Abs]: (out, x) => {
    for (let i = 0; i < x.length; i++) out[i] = Math.abs(x[i]!);
  },
  [Sigmoid]: (out, x) => {
    for (let i = 0; i < x.length; i++) out[i] = 1 / (1 + Math.exp(-x[i]!));
  },
  [ClipByValue]: (out, x, attrs) => {
    const lo = Number(attrs['clipValueMin']);
    const hi = Number(attrs['clipValueMax']);
    for (let i = 0; i < x.length; i++) {
      const v = x[i]!;
      out[i] = v > hi ? hi : v < lo ? lo : v;
    }
  },
};

function binaryKernel<A extends Values, O extends Values>(
  engine: WasmEngine,
  run: Run<A, O>,
  inputDtype: 'float32' | 'bool',
  outputDtype: 'float32' | 'bool',
  fallback: KernelFunc,
  wasmOp?: number,
): KernelFunc {
  return (args) => {
    const backend = args.backend as MathBackendCPU;
    const { a, b } = args.inputs as { a: TensorInfo; b: TensorInfo };
    if (a.dtype !== inputDtype || b.dtype !== inputDtype) return fallback(args);
    const plan = planBroadcast(a.shape, b.shape);
    if (plan === undefined) return fallback(args);
    const av = backend.data.get(a.dataId).values as A;
    const bv = backend.data.get(b.dataId).values as A;
    if (wasmOp !== undefined) {
      const fast = binaryOp(engine, wasmOp, av as Float32Array, bv as Float32Array, plan);
      if (fast !== undefined) return backend.makeTensorInfo(plan.outShape, 'float32', fast);
    }
    const size = plan.dims.reduce((p, d) => p * d, 1);
    const out = (
      outputDtype === 'float32' ? engine.newTensor(size, 'an element-wise operation') : new Uint8Array(size)
    ) as O;
    forEachRun(plan, (o, ai, bi, n, as, bs) => run(out, av, bv, o, ai, bi, n, as, bs));
    return backend.makeTensorInfo(plan.outShape, outputDtype, out);
  };
}

function unaryKernel(engine: WasmEngine, fn: Unary, fallback: KernelFunc, wasmOp?: number): KernelFunc {
  return (args) => {
    const backend = args.backend as MathBackendCPU;
    const { x } = args.inputs as { x: TensorInfo };
    if (x.dtype !== 'float32') return fallback(args);
    const xv = backend.data.get(x.dataId).values as Float32Array;
    if (wasmOp !== undefined) {
      const attrs = (args.attrs ?? {}) as Record<string, unknown>;
      const alpha = Number(attrs['alpha'] ?? attrs['clipValueMin'] ?? 0);
      const beta = Number(attrs['clipValueMax'] ?? 0);
      const fast = unaryOp(engine, wasmOp, xv, alpha, beta);
      if (fast !== undefined) return backend.makeTensorInfo(x.shape, 'float32', fast);
    }
    const out = engine.newTensor(xv.length, 'an element-wise operation');
    fn(out, xv, (args.attrs ?? {}) as Record<string, unknown>);
    return backend.makeTensorInfo(x.shape, 'float32', out);
  };
}

/** Sum of many same-shaped tensors, as autodiff uses to combine the gradients reaching one tensor. */
function addN(engine: WasmEngine, fallback: KernelFunc): KernelFunc {
  return (args) => {
    const backend = args.backend as MathBackendCPU;
    const tensors = args.inputs as unknown as TensorInfo[];
    const first = tensors[0];
    if (first === undefined || tensors.some((t) => t.dtype !== 'float32')) return fallback(args);
    const arrays = tensors.map((t) => backend.data.get(t.dataId).values as Float32Array);
    const size = (arrays[0] as Float32Array).length;
    const plan = planBroadcast([size], [size]);
    let total =
      arrays.length >= 2 && plan !== undefined
        ? binaryOp(engine, BINARY_OPS.Add, arrays[0] as Float32Array, arrays[1] as Float32Array, plan)
        : undefined;
    if (total !== undefined && plan !== undefined) {
      for (let k = 2; k < arrays.length; k++) {
        const next = binaryOp(engine, BINARY_OPS.Add, total, arrays[k] as Float32Array, plan) as Float32Array;
        engine.release(total);
        total = next;
      }
      return backend.makeTensorInfo(first.shape, 'float32', total);
    }
    const out = engine.newTensor(size, 'a sum of gradients');
    out.set(arrays[0] as Float32Array);
    for (let k = 1; k < arrays.length; k++) {
      const v = arrays[k] as Float32Array;
      for (let i = 0; i < out.length; i++) out[i] = out[i]! + v[i]!;
    }
    return backend.makeTensorInfo(first.shape, 'float32', out);
  };
}

/** Where condition, t, else e; all three of one shape (tfjs's row-broadcasting form goes to the cpu kernel). */
function select(engine: WasmEngine, fallback: KernelFunc): KernelFunc {
  return (args) => {
    const backend = args.backend as MathBackendCPU;
    const { condition, t, e } = args.inputs as { condition: TensorInfo; t: TensorInfo; e: TensorInfo };
    const sameShape =
      condition.shape.length === t.shape.length && condition.shape.every((n, i) => n === t.shape[i]);
    if (!sameShape || t.dtype !== 'float32' || e.dtype !== 'float32' || condition.dtype !== 'bool') {
      return fallback(args);
    }
    const c = backend.data.get(condition.dataId).values as Uint8Array;
    const tv = backend.data.get(t.dataId).values as Float32Array;
    const ev = backend.data.get(e.dataId).values as Float32Array;
    const out = engine.newTensor(tv.length, 'a selection');
    for (let i = 0; i < out.length; i++) out[i] = c[i] ? tv[i]! : ev[i]!;
    return backend.makeTensorInfo(t.shape, 'float32', out);
  };
}

export function elementwiseKernels(
  engine: WasmEngine,
  fallback: Map<string, KernelFunc>,
  backendName: string,
): KernelConfig[] {
  const original = (name: string): KernelFunc => {
    const f = fallback.get(name);
    if (f === undefined) throw new Error(`tfjs cpu backend has no ${name} kernel`);
    return f;
  };
  const configs: KernelConfig[] = [];
  for (const [name, run] of Object.entries(arithmetic)) {
    const code = BINARY_OPS[name as keyof typeof BINARY_OPS];
    configs.push({
      kernelName: name,
      backendName,
      kernelFunc: binaryKernel(engine, run, 'float32', 'float32', original(name), code),
    });
  }
  for (const [name, run] of Object.entries(comparisons)) {
    configs.push({
      kernelName: name,
      backendName,
      kernelFunc: binaryKernel(engine, run, 'float32', 'bool', original(name)),
    });
  }
  for (const [name, run] of Object.entries(logical)) {
    configs.push({
      kernelName: name,
      backendName,
      kernelFunc: binaryKernel(engine, run, 'bool', 'bool', original(name)),
    });
  }
  for (const [name, fn] of Object.entries(unary)) {
    const code = UNARY_OPS[name as keyof typeof UNARY_OPS] as number | undefined;
    configs.push({
      kernelName: name,
      backendName,
      kernelFunc: unaryKernel(engine, fn, original(name), code),
    });
  }
  configs.push({ kernelName: AddN, backendName, kernelFunc: addN(engine, original(AddN)) });
  configs.push({ kernelName: Select, backendName, kernelFunc: select(engine, original(Select)) });
  return configs;
}
