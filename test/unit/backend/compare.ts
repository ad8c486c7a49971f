// Runs in: the backend tests' vitest process. Runs the same tfjs computation on the cpu backend and on
// emonas-cpu and measures how far apart the results are.

import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
// tfjs-layers registers tfjs-core's gradients, which tfjs-core's Node bundle leaves out.
import '@tensorflow/tfjs-layers';
import { registerFastCpuBackend } from '../../../core/backend/index.ts';

export const FAST = await registerFastCpuBackend();

/** Runs f under each backend inside tidy and returns its outputs' values (cpu first). */
export async function onBoth(f: () => tf.Tensor | tf.Tensor[]): Promise<[Float32Array[], Float32Array[]]> {
  const run = async (backend: string): Promise<Float32Array[]> => {
    await tf.setBackend(backend);
    const outputs = tf.tidy(() => {
      const out = f();
      return Array.isArray(out) ? out : [out];
    });
    const values = outputs.map((t) => Float32Array.from(t.dataSync()));
    tf.dispose(outputs);
    return values;
  };
  const cpu = await run('cpu');
  const fast = await run(FAST);
  return [cpu, fast];
}

/** max |a - b| / max |b|: the error relative to the reference's scale. */
export function relativeError(a: Float32Array, reference: Float32Array): number {
  if (a.length !== reference.length) return Infinity;
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < a.length; i++) {
    const r = reference[i] as number;
    const v = a[i] as number;
    if (Number.isNaN(r) !== Number.isNaN(v)) return Infinity;
    if (Number.isNaN(r)) continue;
    diff = Math.max(diff, Math.abs(v - r));
    scale = Math.max(scale, Math.abs(r));
  }
  return diff / (scale || 1);
}

/** The largest relative error over pairs of outputs. */
export function worstError(cpu: Float32Array[], fast: Float32Array[]): number {
  if (cpu.length !== fast.length) return Infinity;
  return Math.max(...cpu.map((reference, i) => relativeError(fast[i] as Float32Array, reference)));
}

/** Deterministic values in [-1, 1) for a shape, the same on every backend. */
export function values(shape: number[], seed: number): Float32Array {
  const n = shape.reduce((p, d) => p * d, 1);
  const out = new Float32Array(n);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 2 ** 31 - 1;
  }
  return out;
}

/** A 5-D (or 3-D) tensor from values and a shape known only as number[]. */
export function tensor5(v: Float32Array, shape: number[]): tf.Tensor5D {
  const t: tf.Tensor = tf.tensor(v, shape);
  return t as tf.Tensor5D;
}

export function tensor3(v: Float32Array, shape: number[]): tf.Tensor3D {
  const t: tf.Tensor = tf.tensor(v, shape);
  return t as tf.Tensor3D;
}

export { tf };
