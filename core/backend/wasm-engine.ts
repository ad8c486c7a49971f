// Runs in: the process that trains networks (a training worker, a test, the benchmark); its helper
// threads are worker threads of that process. Owns the WebAssembly kernels' shared memory (a heap of
// tensors and kernels' working memory, bounded so exhaustion is a clear error instead of a wasm trap) and
// the helper threads that run kernels alongside the calling thread.

import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { setFlagsFromString } from 'node:v8';
import { Worker } from 'node:worker_threads';
import { EmonasError } from '../base/errors.ts';
import { Heap } from './heap.ts';

const PAGE = 65536;
/** Below this address: the job control block and per-thread scratch (see assembly/kernels.ts). */
const HEAP_START = PAGE;
/** Tensors and working memory share this much by default; beyond it tensors stay in ordinary memory. */
const DEFAULT_MAX_MEMORY = 3 * 2 ** 30;
const ACTIVE = 1;
const HELPER_FAILED = 6;
const PARAMS = 64;
/** The most helper threads the control block's scratch area has room for. */
const MAX_THREADS = 15;

export const JOB_PAD = 1;
export const JOB_CONV = 2;
export const JOB_FILTER_GRAD = 3;
export const JOB_SCATTER = 4;
export const JOB_BINARY = 5;
export const JOB_UNARY = 6;
export const JOB_REDUCE = 7;
export const JOB_MAX_POOL = 8;
export const JOB_MAX_POOL_GRAD = 9;
export const JOB_WINOGRAD = 10;
export const JOB_WINOGRAD_FILTER_GRAD = 11;

export interface EngineOptions {
  /** Threads that run kernels, the calling one included. Default: the machine's cores, at most 8. */
  threads?: number;
  /** Use relaxed SIMD's fused multiply-add where V8 supports it. Default true. */
  relaxedSimd?: boolean;
  /**
   * Upper bound of the backend's WebAssembly memory in bytes (tensors and kernels' working memory; at most
   * 4 GiB, the wasm32 limit). Default 3 GiB. Tensors that do not fit stay in ordinary memory.
   */
  maxMemoryBytes?: number;
  /** Busy-wait iterations of an idle helper before it sleeps; trades idle CPU for wake-up latency. */
  helperSpin?: number;
}

interface KernelExports {
  run(kind: number, total: number): void;
  recover(): void;
  shutdown(): void;
}

const PLAIN_WASM = new URL('./kernels.wasm', import.meta.url);
const RELAXED_WASM = new URL('./kernels-relaxed.wasm', import.meta.url);

/**
 * The kernels with fused multiply-add when this V8 can run relaxed SIMD: on by default from V8 11.4
 * (Node 22), behind a flag in Node 20's V8 11.3, which is set here; it only lets wasm modules use those
 * instructions. Otherwise the plain SIMD build.
 */
function compileKernels(relaxed: boolean): { module: WebAssembly.Module; fused: boolean } {
  if (relaxed) {
    const bytes = readFileSync(RELAXED_WASM);
    if (!WebAssembly.validate(bytes)) setFlagsFromString('--experimental-wasm-relaxed-simd');
    if (WebAssembly.validate(bytes)) return { module: new WebAssembly.Module(bytes), fused: true };
  }
  return { module: new WebAssembly.Module(readFileSync(PLAIN_WASM)), fused: false };
}

// A helper instantiates the same module on the same memory and stays inside helperLoop until shutdown.
// If its part of a job traps, it leaves the job as helperLoop would have, flags the failure for the
// caller, and goes back to waiting.
const HELPER_SOURCE = `
const { workerData } = require('node:worker_threads');
const instance = new WebAssembly.Instance(workerData.module, { env: { memory: workerData.memory } });
const control = new Int32Array(workerData.memory.buffer, 0, 16);
for (;;) {
  try {
    instance.exports.helperLoop(workerData.tid, workerData.spin);
    break;
  } catch {
    Atomics.store(control, ${HELPER_FAILED}, 1);
    Atomics.sub(control, ${ACTIVE}, 1);
    Atomics.notify(control, ${ACTIVE});
  }
}
`;

export class WasmEngine {
  readonly threads: number;
  readonly maxMemoryBytes: number;
  readonly heap: Heap;
  /** Whether the kernels use fused multiply-add (relaxed SIMD). */
  readonly fused: boolean;
  private readonly memory: WebAssembly.Memory;
  private readonly kernels: KernelExports;
  private readonly helpers: Worker[] = [];
  /** Every buffer the memory has had: views made before a growth keep the older one. */
  private readonly buffers = new Set<ArrayBufferLike>();
  private f32View: Float32Array;
  private i32View: Int32Array;
  private disposed = false;

  constructor(options: EngineOptions = {}) {
    this.threads = Math.max(1, Math.min(MAX_THREADS, options.threads ?? Math.min(8, availableParallelism())));
    this.maxMemoryBytes = Math.min(2 ** 32, options.maxMemoryBytes ?? DEFAULT_MAX_MEMORY);
    const maxPages = Math.floor(this.maxMemoryBytes / PAGE);
    if (maxPages < 4) {
      throw new EmonasError(
        'bad_request',
        `The fast CPU backend needs at least 256 KiB of memory; ${this.maxMemoryBytes} bytes were configured.`,
      );
    }
    const { module, fused } = compileKernels(options.relaxedSimd ?? true);
    this.fused = fused;
    this.memory = new WebAssembly.Memory({ initial: 2, maximum: maxPages, shared: true });
    const instance = new WebAssembly.Instance(module, { env: { memory: this.memory } });
    this.kernels = instance.exports as unknown as KernelExports;
    this.f32View = new Float32Array(this.memory.buffer);
    this.i32View = new Int32Array(this.memory.buffer);
    this.buffers.add(this.memory.buffer);
    this.heap = new Heap(HEAP_START, maxPages * PAGE, (end) => this.growTo(end));
    const spin = options.helperSpin ?? 20000;
    for (let tid = 1; tid < this.threads; tid++) {
      const worker = new Worker(HELPER_SOURCE, {
        eval: true,
        workerData: { module, memory: this.memory, tid, spin },
      });
      worker.unref();
      this.helpers.push(worker);
    }
  }

  private growTo(end: number): boolean {
    const have = this.memory.buffer.byteLength;
    if (end <= have) return true;
    try {
      this.memory.grow(Math.ceil((end - have) / PAGE));
    } catch {
      return false;
    }
    this.f32View = new Float32Array(this.memory.buffer);
    this.i32View = new Int32Array(this.memory.buffer);
    this.buffers.add(this.memory.buffer);
    return true;
  }

  get f32(): Float32Array {
    return this.f32View;
  }

  get i32(): Int32Array {
    return this.i32View;
  }

  /** Byte address of a float32 array living in this engine's memory, else undefined. */
  addressOf(values: ArrayBufferView): number | undefined {
    return this.buffers.has(values.buffer) ? values.byteOffset : undefined;
  }

  /** A float32 array in the heap (its address is the block's start), or undefined when the heap is full. */
  tryTensor(length: number): Float32Array | undefined {
    const start = this.heap.alloc(length * 4);
    return start === undefined ? undefined : new Float32Array(this.memory.buffer, start, length);
  }

  /** A result array: in the heap if there is room, else in ordinary memory (kernels then copy results out). */
  newTensor(length: number, purpose: string): Float32Array {
    return this.tryTensor(length) ?? allocOutput(length, purpose);
  }

  /** A new tensor filled by fill(tensor), released again if fill throws so a failed kernel leaks nothing. */
  newTensorFilled(length: number, purpose: string, fill: (tensor: Float32Array) => void): Float32Array {
    const tensor = this.newTensor(length, purpose);
    try {
      fill(tensor);
      return tensor;
    } catch (err) {
      this.release(tensor);
      throw err;
    }
  }

  /** Frees a block from tryTensor/newTensor that never became a tensor's. */
  release(values: Float32Array): void {
    const at = this.addressOf(values);
    if (at !== undefined) this.heap.release(at);
  }

  /** Working memory for one kernel call; release() frees all of it. */
  scratch(): Scratch {
    return new Scratch(this);
  }

  /** Runs a job on every thread; params are the job's i32 parameters (see assembly/kernels.ts). */
  run(kind: number, chunks: number, params: readonly number[]): void {
    if (this.disposed)
      throw new EmonasError('internal', 'The fast CPU backend was used after it was disposed.');
    if (chunks <= 0) return;
    this.i32View.set(params, PARAMS / 4);
    try {
      this.kernels.run(kind, chunks);
    } catch (err) {
      this.kernels.recover();
      // A helper that trapped on the same job has flagged it too; that failure is this one.
      Atomics.store(this.i32View, HELPER_FAILED, 0);
      throw new EmonasError(
        'internal',
        `A kernel of the fast CPU backend failed: ${(err as Error).message}.`,
        {
          cause: err,
        },
      );
    }
    if (Atomics.load(this.i32View, HELPER_FAILED) !== 0) {
      Atomics.store(this.i32View, HELPER_FAILED, 0);
      throw new EmonasError('internal', 'A helper thread of the fast CPU backend failed inside a kernel.');
    }
  }

  /** Stops the helper threads. */
  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    this.kernels.shutdown();
    await Promise.all(this.helpers.map((worker) => worker.terminate()));
  }
}

/** Blocks one kernel call works in, freed together; running out is a clear out-of-memory error. */
export class Scratch {
  private readonly blocks: number[] = [];

  constructor(private readonly engine: WasmEngine) {}

  alloc(bytes: number, purpose: string): number {
    const start = this.engine.heap.alloc(bytes);
    if (start === undefined) {
      const limit = this.engine.maxMemoryBytes;
      throw new EmonasError(
        'out_of_memory',
        `Training needs ${formatMiB(bytes)} more working memory for ${purpose}, but the fast CPU backend's ` +
          `${formatMiB(limit)} are in use by this network's tensors: use a smaller patch, batch or network, ` +
          'or raise the limit.',
        { details: { neededBytes: bytes, limitBytes: limit, inUseBytes: this.engine.heap.bytesInUse } },
      );
    }
    this.blocks.push(start);
    return start;
  }

  /** The largest block alloc could still return. */
  available(): number {
    return this.engine.heap.largestAvailable();
  }

  /** A point to roll back to with releaseTo. */
  mark(): number {
    return this.blocks.length;
  }

  releaseTo(mark: number): void {
    while (this.blocks.length > mark) this.engine.heap.release(this.blocks.pop() as number);
  }

  /**
   * The most planes (up to `most`) whose blocks of `sizes(planes)` bytes (0: none) fit, and those blocks;
   * halves the planes when the heap, though large enough in total, has no block that large, and throws
   * out_of_memory only when one plane does not fit.
   */
  reserveSlabs(
    most: number,
    purpose: string,
    sizes: (planes: number) => number[],
  ): { planes: number; blocks: number[] } {
    let planes = most;
    const room = this.available();
    while (planes > 1 && sizes(planes).reduce((a, b) => a + b + 4096, 0) > room)
      planes = Math.ceil(planes / 2);
    for (;;) {
      const mark = this.mark();
      try {
        return { planes, blocks: sizes(planes).map((bytes) => (bytes > 0 ? this.alloc(bytes, purpose) : 0)) };
      } catch (err) {
        if (planes === 1 || !(err instanceof EmonasError) || err.code !== 'out_of_memory') throw err;
        this.releaseTo(mark);
        planes = Math.ceil(planes / 2);
      }
    }
  }

  release(): void {
    for (const start of this.blocks) this.engine.heap.release(start);
    this.blocks.length = 0;
  }
}

/** A result array in ordinary memory; the host running out becomes a candidate failure with a sentence. */
export function allocOutput(length: number, purpose: string): Float32Array {
  try {
    return new Float32Array(length);
  } catch (err) {
    throw new EmonasError(
      'out_of_memory',
      `The computer ran out of memory for the ${formatMiB(length * 4)} result of ${purpose}: close other ` +
        'programs, or use a smaller patch or batch.',
      { cause: err },
    );
  }
}

function formatMiB(bytes: number): string {
  return `${Math.ceil(bytes / 2 ** 20)} MiB`;
}
