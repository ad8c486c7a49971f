// Runs in: the process that trains networks (a training worker, tests, the benchmark). The fast CPU
// backend: tfjs's cpu backend with its hot kernels replaced by multi-threaded WebAssembly SIMD ones, under
// its own name so tfjs-layers models train on it unchanged.

import {
  findBackend,
  getKernelsForBackend,
  registerBackend,
  registerKernel,
  type KernelConfig,
  type KernelFunc,
} from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { EmonasError } from '../base/errors.ts';
import { convKernels } from './conv-kernels.ts';
import { FastCpuBackend } from './fast-cpu-backend.ts';
import { elementwiseKernels } from './elementwise-kernels.ts';
import { matmulKernels } from './matmul-kernels.ts';
import { poolKernels } from './pool-kernels.ts';
import { reduceKernels } from './reduce-kernels.ts';
import { WasmEngine, type EngineOptions } from './wasm-engine.ts';

export const FAST_CPU_BACKEND = 'emonas-cpu';

/**
 * Above the cpu (1) and wasm (2) backends, below tfjs-node's native one (3), so tfjs picks this backend by
 * itself when no native backend is loaded. The wasm backend must never win: its Conv3D input gradient is wrong.
 */
const PRIORITY = 2.5;

export type FastCpuOptions = EngineOptions;

let engine: WasmEngine | undefined;

/**
 * Registers the 'emonas-cpu' backend and resolves to its name; select it with tf.setBackend(name). The
 * engine starts once per process: later calls (say after tf.removeBackend) reuse it and ignore options.
 */
export async function registerFastCpuBackend(options: FastCpuOptions = {}): Promise<string> {
  if (engine === undefined) {
    const started = startEngine(options);
    registerKernels(started);
    engine = started;
  }
  const kernelEngine = engine;
  if (findBackend(FAST_CPU_BACKEND) === null) {
    registerBackend(FAST_CPU_BACKEND, () => new FastCpuBackend(kernelEngine), PRIORITY);
  }
  return FAST_CPU_BACKEND;
}

/** The running engine, for memory figures and tests; undefined before registration. */
export function fastCpuEngine(): WasmEngine | undefined {
  return engine;
}

function startEngine(options: FastCpuOptions): WasmEngine {
  try {
    return new WasmEngine(options);
  } catch (err) {
    if (err instanceof EmonasError) throw err;
    throw new EmonasError(
      'backend_unavailable',
      `The fast CPU backend could not start its WebAssembly kernels (${(err as Error).message}); ` +
        'the plain cpu backend still works, only slower.',
      { cause: err },
    );
  }
}

/** Every kernel of the cpu backend under our name, ours replacing the hot ones. */
function registerKernels(kernelEngine: WasmEngine): void {
  const cpuKernels = getKernelsForBackend('cpu');
  const fallback = new Map<string, KernelFunc>(cpuKernels.map((k) => [k.kernelName, k.kernelFunc]));
  const own = [
    ...convKernels(kernelEngine, fallback, FAST_CPU_BACKEND),
    ...elementwiseKernels(kernelEngine, fallback, FAST_CPU_BACKEND),
    ...reduceKernels(kernelEngine, fallback, FAST_CPU_BACKEND),
    ...poolKernels(kernelEngine, fallback, FAST_CPU_BACKEND),
    ...matmulKernels(kernelEngine, fallback, FAST_CPU_BACKEND),
  ];
  const replaced = new Set(own.map((k) => k.kernelName));
  for (const kernel of cpuKernels) {
    if (!replaced.has(kernel.kernelName)) {
      registerKernel({ ...kernel, backendName: FAST_CPU_BACKEND, kernelFunc: failClearly(kernel) });
    }
  }
  for (const kernel of own) registerKernel(kernel);
}

/**
 * The cpu backend's kernel, with the host running out of memory for its result (a RangeError from the
 * typed-array allocation) turned into out_of_memory, so the candidate fails with a sentence.
 */
function failClearly(kernel: KernelConfig): KernelFunc {
  const run = kernel.kernelFunc;
  return (args) => {
    try {
      return run(args);
    } catch (err) {
      if (err instanceof RangeError && /allocat|array length|buffer/i.test(err.message)) {
        throw new EmonasError(
          'out_of_memory',
          `The computer ran out of memory in the ${kernel.kernelName} operation: close other programs, or use ` +
            'a smaller patch, batch or network.',
          { cause: err },
        );
      }
      throw err;
    }
  };
}
