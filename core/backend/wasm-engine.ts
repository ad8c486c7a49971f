// Runs in: the process that trains networks (a training worker, a test, the benchmark); its helper
// threads are worker threads of that process. Owns the WebAssembly kernels' shared memory, the helper
// threads that run kernels alongside the calling thread, and the arena that each kernel call uses as its
// working memory, bounded so exhaustion is a clear error instead of a wasm trap.

import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { EmonasError } from '../base/errors.ts';

const PAGE = 65536;
/** Below this address: the job control block and per-thread scratch (see assembly/kernels.ts). */
const ARENA_START = PAGE;
const ACTIVE = 1;
const HELPER_FAILED = 6;
const PARAMS = 64;
/** The most helper threads the control block's scratch area has room for. */
const MAX_THREADS = 15;
/** Every block is followed by this much slack: tiles read up to 12 bytes past a block's end. */
const SLACK = 64;

export const JOB_PAD = 1;
export const JOB_CONV = 2;
export const JOB_FILTER_GRAD = 3;
export const JOB_SCATTER = 4;

export interface EngineOptions {
  /** Threads that run kernels, the calling one included. Default: the machine's cores, at most 8. */
  threads?: number;
  /** Upper bound of the kernels' working memory in bytes. Default 1 GiB. */
  maxMemoryBytes?: number;
  /** Busy-wait iterations of an idle helper before it sleeps; trades idle CPU for wake-up latency. */
  helperSpin?: number;
}

interface KernelExports {
  run(kind: number, total: number): void;
  recover(): void;
  shutdown(): void;
}

const WASM_URL = new URL('./kernels.wasm', import.meta.url);

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
  private readonly memory: WebAssembly.Memory;
  private readonly kernels: KernelExports;
  private readonly helpers: Worker[] = [];
  private top = ARENA_START;
  private peak = ARENA_START;
  private f32View: Float32Array;
  private i32View: Int32Array;
  private disposed = false;

  constructor(options: EngineOptions = {}) {
    this.threads = Math.max(1, Math.min(MAX_THREADS, options.threads ?? Math.min(8, availableParallelism())));
    this.maxMemoryBytes = options.maxMemoryBytes ?? 2 ** 30;
    const maxPages = Math.min(65536, Math.floor(this.maxMemoryBytes / PAGE));
    if (maxPages < 2) {
      throw new EmonasError(
        'bad_request',
        `The fast CPU backend needs at least 128 KiB of working memory; ${this.maxMemoryBytes} bytes were configured.`,
      );
    }
    const module = new WebAssembly.Module(readFileSync(WASM_URL));
    this.memory = new WebAssembly.Memory({ initial: 2, maximum: maxPages, shared: true });
    const instance = new WebAssembly.Instance(module, { env: { memory: this.memory } });
    this.kernels = instance.exports as unknown as KernelExports;
    this.f32View = new Float32Array(this.memory.buffer);
    this.i32View = new Int32Array(this.memory.buffer);
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

  /** Frees every block: each kernel call starts with this, so nothing outlives a call. */
  reset(): void {
    this.top = ARENA_START;
  }

  /** Bytes of the arena in use at the worst moment so far. */
  get peakBytes(): number {
    return this.peak;
  }

  /** A 64-byte-aligned block of `bytes` (contents undefined), growing memory up to the bound. */
  alloc(bytes: number, purpose: string): number {
    const start = this.top;
    const end = start + Math.ceil((bytes + SLACK) / 64) * 64;
    if (end > this.maxMemoryBytes) {
      throw new EmonasError(
        'out_of_memory',
        `Training needs ${formatMiB(end)} of working memory for ${purpose}, more than the fast CPU backend's ` +
          `limit of ${formatMiB(this.maxMemoryBytes)}: use a smaller patch or batch, or raise the limit.`,
        { details: { neededBytes: end, limitBytes: this.maxMemoryBytes } },
      );
    }
    const have = this.memory.buffer.byteLength;
    if (end > have) {
      const pages = Math.ceil((end - have) / PAGE);
      try {
        this.memory.grow(pages);
      } catch (err) {
        throw new EmonasError(
          'out_of_memory',
          `The computer ran out of memory while the fast CPU backend reserved ${formatMiB(end)} for ` +
            `${purpose}: close other programs, or use a smaller patch or batch.`,
          { cause: err },
        );
      }
      this.f32View = new Float32Array(this.memory.buffer);
      this.i32View = new Int32Array(this.memory.buffer);
    }
    this.top = end;
    this.peak = Math.max(this.peak, end);
    return start;
  }

  /** Bytes the arena could still hand out in one block. */
  available(): number {
    return this.maxMemoryBytes - this.top - SLACK - 64;
  }

  get f32(): Float32Array {
    return this.f32View;
  }

  get i32(): Int32Array {
    return this.i32View;
  }

  /** Runs a job on every thread; params are the job's i32 parameters (see assembly/kernels.ts). */
  run(kind: number, chunks: number, params: readonly number[]): void {
    if (this.disposed) throw new EmonasError('internal', 'The fast CPU backend was used after it was disposed.');
    if (chunks <= 0) return;
    this.i32View.set(params, PARAMS / 4);
    try {
      this.kernels.run(kind, chunks);
    } catch (err) {
      this.kernels.recover();
      throw new EmonasError('internal', `A kernel of the fast CPU backend failed: ${(err as Error).message}.`, {
        cause: err,
      });
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

function formatMiB(bytes: number): string {
  return `${Math.ceil(bytes / 2 ** 20)} MiB`;
}
