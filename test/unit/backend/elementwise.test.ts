import { describe, expect, it } from 'vitest';
import { onBoth, tf, values, worstError } from './compare.ts';

// Small shapes take the JavaScript loops; large ones (>= 16384 elements) the multi-threaded SIMD kernels.
const BROADCASTS: [string, number[], number[]][] = [
  ['same shape, small', [3, 5, 7], [3, 5, 7]],
  ['same shape, large', [2, 20, 16, 12, 8], [2, 20, 16, 12, 8]],
  ['bias over channels', [2, 20, 16, 12, 8], [8]],
  ['per-sample channel statistics', [2, 3840, 8], [2, 1, 8]],
  ['5-D per-sample statistics', [2, 20, 16, 12, 8], [2, 1, 1, 1, 8]],
  ['column times row', [2, 3000, 1], [2, 1, 16]],
  ['scalar right', [40000], []],
  ['scalar left', [], [2, 150, 160]],
  ['odd channels', [3, 7000, 3], [3]],
  ['broadcast both ways', [7, 1, 5], [1, 6, 1]],
];

const ARITHMETIC: [string, (a: tf.Tensor, b: tf.Tensor) => tf.Tensor][] = [
  ['add', tf.add],
  ['sub', tf.sub],
  ['mul', tf.mul],
  ['div', tf.div],
  ['maximum', tf.maximum],
  ['minimum', tf.minimum],
  ['squaredDifference', tf.squaredDifference],
];

describe('element-wise kernels against the cpu backend', () => {
  it.each(BROADCASTS)('arithmetic with %s', async (_name, aShape, bShape) => {
    const av = values(aShape, 1);
    const bv = values(bShape, 2).map((v) => v + 1.5);
    const [cpu, fast] = await onBoth(() =>
      ARITHMETIC.map(([, op]) => op(tf.tensor(av, aShape), tf.tensor(bv, bShape))),
    );
    expect(fast[0]?.length).toBe(cpu[0]?.length);
    // The same float32 operations in the same order: identical, not merely close.
    expect(worstError(cpu, fast)).toBe(0);
  });

  it.each([
    ['small', [5, 6, 7]],
    ['large', [2, 24, 16, 12, 8]],
  ])('unary functions (%s)', async (_name, shape) => {
    const x = values(shape, 3);
    x[0] = NaN;
    x[1] = -0;
    x[2] = 0;
    const [cpu, fast] = await onBoth(() => {
      const t = tf.tensor(x, shape);
      const positive = tf.add(tf.abs(t), 0.25);
      return [
        tf.relu(t),
        tf.step(t, 0.3),
        tf.square(t),
        tf.sqrt(positive),
        tf.rsqrt(positive),
        tf.neg(t),
        tf.abs(t),
        tf.reciprocal(positive),
        tf.clipByValue(t, -0.4, 0.6),
        tf.exp(t),
        tf.log(positive),
        tf.sigmoid(t),
      ];
    });
    // rsqrt rounds twice in float32 on the engine and once from double on the cpu backend: one ulp.
    expect(worstError(cpu, fast)).toBeLessThan(1e-6);
    expect(Number.isNaN(fast[0]?.[0])).toBe(true);
  });

  it('exp and sigmoid to about one ulp over the whole float range, with infinities, subnormals and NaN', async () => {
    const n = 40000;
    const x = new Float32Array(n);
    for (let i = 0; i < n; i++) x[i] = -106 + (196 * i) / n;
    x.set([Infinity, -Infinity, NaN, 0, -0, 88.72, 88.73, -87.5, -103.9], 0);
    const [cpu, fast] = await onBoth(() => [tf.exp(tf.tensor(x)), tf.sigmoid(tf.tensor(x))]);
    for (let k = 0; k < 2; k++) {
      const r = cpu[k] as Float32Array;
      const f = fast[k] as Float32Array;
      let worst = 0;
      for (let i = 0; i < n; i++) {
        const a = r[i] as number;
        const b = f[i] as number;
        if (Number.isNaN(a) || !Number.isFinite(a) || a === 0) {
          expect(Object.is(b, a) || (a === 0 && b === 0)).toBe(true);
        } else if (a < 2 ** -126) {
          // Subnormal results round twice (the two halves of 2^n): a few units of the last subnormal place.
          expect(Math.abs(b - a)).toBeLessThan(2 ** -126 * 1e-5);
        } else {
          worst = Math.max(worst, Math.abs(b - a) / a);
        }
      }
      expect(worst).toBeLessThan(3e-7);
    }
  });

  it('comparisons, logic and selection', async () => {
    const shape = [4, 5, 6];
    const av = values(shape, 4);
    const bv = values(shape, 5);
    const [cpu, fast] = await onBoth(() => {
      const a = tf.tensor(av, shape);
      const b = tf.tensor(bv, shape);
      const ge = tf.greaterEqual(a, b);
      const le = tf.lessEqual(a, 0.1);
      return [
        ge,
        le,
        tf.greater(a, b),
        tf.less(a, b),
        tf.equal(a, a),
        tf.notEqual(a, b),
        tf.logicalAnd(ge, le),
        tf.logicalOr(ge, le),
        tf.where(tf.logicalAnd(ge, le), a, b),
      ].map((t) => tf.cast(t, 'float32'));
    });
    expect(worstError(cpu, fast)).toBe(0);
  });

  it('adds many gradients at once (AddN), small and large', async () => {
    const [cpu, fast] = await onBoth(() =>
      [
        [3, 4],
        [2, 20000],
      ].map((shape, i) => tf.addN([0, 1, 2, 3].map((k) => tf.tensor(values(shape, 10 * i + k), shape)))),
    );
    expect(worstError(cpu, fast)).toBeLessThan(1e-6);
  });

  it('leaves int32 arithmetic to the cpu backend', async () => {
    const [cpu, fast] = await onBoth(() => [
      tf.cast(tf.add(tf.tensor([1, 2, 3], [3], 'int32'), tf.scalar(4, 'int32')), 'float32'),
    ]);
    expect(Array.from(fast[0] as Float32Array)).toEqual([5, 6, 7]);
    expect(worstError(cpu, fast)).toBe(0);
  });
});
