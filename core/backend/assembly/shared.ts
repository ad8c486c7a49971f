// Runs in: the engine's WebAssembly instances, one per thread (see kernels.ts). What every kernel file
// shares: where a job's parameters and each thread's scratch live in the shared memory, and the
// multiply-add that the relaxed-SIMD build fuses.

export const PARAMS: usize = 64; // 64 i32 parameters of the open job
export const SCRATCH: usize = 1024;
export const SCRATCH_PER_THREAD: usize = 4096;

export function param(i: i32): i32 {
  return load<i32>(PARAMS + ((<usize>i) << 2));
}

export function scratch(tid: i32): usize {
  return SCRATCH + <usize>tid * SCRATCH_PER_THREAD;
}

/**
 * a * b + c. Fused where the engine enables relaxed SIMD (one rounding; about 1.3x faster convolutions
 * measured on V8 11.3), else a multiply and an add: kernels.wasm and kernels-relaxed.wasm are this one
 * source compiled both ways.
 */
export function madd(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, c);
  return f32x4.add(f32x4.mul(a, b), c);
}
