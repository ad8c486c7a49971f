// Runs in: the training process's thread and the engine's helper threads, as WebAssembly compiled by
// AssemblyScript (`npm run build:wasm`) from this entry file and its imports: the fast CPU backend's
// kernels, and the job protocol that splits each kernel over threads sharing one memory.
//
// Memory is imported, shared and owned by JavaScript: this module allocates nothing. Bytes 0..1023 hold
// the job control block and parameters, 1024..65535 a small scratch area per thread; JavaScript places
// tensors above 64 KiB. The sources are written in the TypeScript subset AssemblyScript accepts without
// decorators, so the project's formatter can read them.

import { convChunk, filterGradChunk, padChunk, scatterChunk } from './convolution';
import { binaryChunk, reduceChunk, unaryChunk } from './elementwise';
import { maxPoolChunk } from './pooling';
import { winogradChunk, winogradFilterGradChunk } from './winograd';

const GATE: usize = 0; // even: closed, odd: a job is open; +1 on every open and close
const ACTIVE: usize = 4; // threads currently inside the open job
const NEXT: usize = 8; // next chunk to hand out
const TOTAL: usize = 12; // chunks in the open job
const SHUTDOWN: usize = 16;
const KIND: usize = 20;
// 24: set by a helper's JavaScript when its kernel trapped, cleared by the caller that reports it.

const KIND_PAD: i32 = 1;
const KIND_CONV: i32 = 2;
const KIND_FILTER_GRAD: i32 = 3;
const KIND_SCATTER: i32 = 4;
const KIND_BINARY: i32 = 5;
const KIND_UNARY: i32 = 6;
const KIND_REDUCE: i32 = 7;
const KIND_MAX_POOL: i32 = 8;
const KIND_MAX_POOL_GRAD: i32 = 9;
const KIND_WINOGRAD: i32 = 10;
const KIND_WINOGRAD_FILTER_GRAD: i32 = 11;

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
    else if (kind == KIND_WINOGRAD) winogradChunk(chunk, tid);
    else if (kind == KIND_WINOGRAD_FILTER_GRAD) winogradFilterGradChunk(chunk, tid);
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
