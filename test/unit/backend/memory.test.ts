import { afterAll, describe, expect, it } from 'vitest';
import { EmonasError } from '../../../core/base/errors.ts';
import { convForward, type ConvGeometry } from '../../../core/backend/conv3d.ts';
import { Heap } from '../../../core/backend/heap.ts';
import { JOB_PAD, WasmEngine } from '../../../core/backend/wasm-engine.ts';
import { FAST, tf, values } from './compare.ts';

function cube(side: number, channels: number, kernel: number): ConvGeometry {
  return {
    batch: 1,
    inD: side,
    inH: side,
    inW: side,
    inC: channels,
    outD: side,
    outH: side,
    outW: side,
    outC: channels,
    kd: kernel,
    kh: kernel,
    kw: kernel,
    sd: 1,
    sh: 1,
    sw: 1,
    pd: (kernel - 1) / 2,
    ph: (kernel - 1) / 2,
    pw: (kernel - 1) / 2,
  };
}

/** The same convolution by definition, in double precision. */
function reference(x: Float32Array, w: Float32Array, g: ConvGeometry): Float64Array {
  const out = new Float64Array(g.outD * g.outH * g.outW * g.outC);
  for (let d = 0; d < g.outD; d++)
    for (let h = 0; h < g.outH; h++)
      for (let v = 0; v < g.outW; v++)
        for (let a = 0; a < g.kd; a++)
          for (let b = 0; b < g.kh; b++)
            for (let c = 0; c < g.kw; c++) {
              const [i, j, k] = [d + a - g.pd, h + b - g.ph, v + c - g.pw];
              if (i < 0 || j < 0 || k < 0 || i >= g.inD || j >= g.inH || k >= g.inW) continue;
              for (let ci = 0; ci < g.inC; ci++) {
                const xv = x[((i * g.inH + j) * g.inW + k) * g.inC + ci] as number;
                for (let co = 0; co < g.outC; co++) {
                  const o = ((d * g.outH + h) * g.outW + v) * g.outC + co;
                  out[o] =
                    (out[o] as number) +
                    xv * (w[(((a * g.kh + b) * g.kw + c) * g.inC + ci) * g.outC + co] as number);
                }
              }
            }
  return out;
}

describe('the heap', () => {
  it('reuses, splits and merges freed blocks, and refuses beyond its limit', () => {
    let end = 0;
    const heap = new Heap(1024, 1024 + 4096, (e) => ((end = Math.max(end, e)), true));
    const a = heap.alloc(1000) as number;
    const b = heap.alloc(1000) as number;
    const c = heap.alloc(1000) as number;
    expect([a, b, c].every((p) => p % 64 === 0 && heap.owns(p))).toBe(true);
    expect(heap.alloc(4096)).toBeUndefined();
    heap.release(a);
    heap.release(b);
    expect(heap.alloc(2000)).toBe(a);
    heap.release(a);
    heap.release(c);
    expect(heap.bytesInUse).toBe(0);
    expect(heap.blocksInUse).toBe(0);
    expect(heap.alloc(4000)).toBe(1024);
    expect(end).toBeLessThanOrEqual(1024 + 4096);
  });
});

describe('the memory bound (on the plain SIMD build, so both builds are checked)', () => {
  const small = new WasmEngine({ threads: 2, maxMemoryBytes: 4 * 2 ** 20, relaxedSimd: false });
  afterAll(() => small.dispose());

  it('uses the build without fused multiply-add when asked', () => {
    expect(small.fused).toBe(false);
  });

  it('turns a convolution that cannot fit into out_of_memory with a sentence', () => {
    // One padded plane of 130 x 130 voxels x 64 channels is 4.3 MiB, more than the whole 4 MiB bound.
    const g = cube(128, 64, 3);
    g.inD = g.outD = 1;
    g.kd = 1;
    g.pd = 0;
    const x = new Float32Array(128 * 128 * 64);
    const w = new Float32Array(9 * 64 * 64);
    const blocks = small.heap.blocksInUse;
    let error: unknown;
    try {
      convForward(small, x, w, g);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(EmonasError);
    expect((error as EmonasError).code).toBe('out_of_memory');
    expect((error as EmonasError).message).toMatch(/working memory .* use a smaller patch/);
    expect(small.heap.blocksInUse).toBe(blocks);
  });

  it('still computes right when tensors no longer fit and slabs must be small', () => {
    // Tensors of the network fill all but 700 KiB: the 884 KiB result goes to ordinary memory and the
    // padded input is worked through a few planes at a time.
    const held = small.tryTensor((small.heap.largestAvailable() - 700 * 1024) / 4) as Float32Array;
    const g = cube(24, 16, 3);
    const x = values([24 * 24 * 24 * 16], 31);
    const w = values([27 * 16 * 16], 32);
    const y = convForward(small, x, w, g);
    small.release(held);
    expect(small.addressOf(y)).toBeUndefined();
    const expected = reference(x, w, g);
    let worst = 0;
    for (let i = 0; i < y.length; i++)
      worst = Math.max(worst, Math.abs((y[i] as number) - (expected[i] as number)));
    expect(worst).toBeLessThan(1e-4);
    expect(small.heap.bytesInUse).toBe(0);
  });

  it('reports a kernel that traps as an error and keeps working', () => {
    const beyond = 2 ** 31;
    expect(() => small.run(JOB_PAD, 4, [beyond, 1, 64, 64, 64, beyond, 1, 64, 64, 64, 0, 0, 0])).toThrow(
      EmonasError,
    );
    const g = cube(6, 4, 3);
    const x = values([6 * 6 * 6 * 4], 33);
    const w = values([27 * 4 * 4], 34);
    const y = convForward(small, x, w, g);
    const expected = reference(x, w, g);
    expect(Math.abs((y[100] as number) - (expected[100] as number))).toBeLessThan(1e-5);
  });
});

describe('the host running out of memory', () => {
  it('is out_of_memory with a sentence in the cpu kernels emonas-cpu keeps too', async () => {
    await tf.setBackend(FAST);
    let error: unknown;
    try {
      tf.fill([2 ** 34], 0);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(EmonasError);
    expect((error as EmonasError).code).toBe('out_of_memory');
    expect((error as EmonasError).message).toMatch(/ran out of memory in the Fill operation/);
  });
});
