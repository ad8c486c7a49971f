import { describe, expect, it } from 'vitest';
import { RandomStream } from '../../../core/base/random.ts';

describe('RandomStream', () => {
  it('is reproducible from a seed and differs between names', () => {
    const a = RandomStream.fromSeed(7, 'search');
    const b = RandomStream.fromSeed(7, 'search');
    const c = RandomStream.fromSeed(7, 'data');
    const xs = Array.from({ length: 5 }, () => a.next());
    expect(Array.from({ length: 5 }, () => b.next())).toEqual(xs);
    expect(Array.from({ length: 5 }, () => c.next())).not.toEqual(xs);
  });

  it('continues exactly from a saved state', () => {
    const a = RandomStream.fromSeed(1);
    for (let i = 0; i < 100; i++) a.next();
    const resumed = RandomStream.fromState(JSON.parse(JSON.stringify(a.state())));
    expect(Array.from({ length: 10 }, () => resumed.nextUint32())).toEqual(
      Array.from({ length: 10 }, () => a.nextUint32()),
    );
  });

  it('draws uniform values in [0, 1) with the right mean', () => {
    const r = RandomStream.fromSeed(3);
    let sum = 0;
    const n = 20000;
    for (let i = 0; i < n; i++) {
      const x = r.next();
      expect(x).toBeGreaterThanOrEqual(0);
      expect(x).toBeLessThan(1);
      sum += x;
    }
    expect(sum / n).toBeCloseTo(0.5, 1);
  });

  it('draws weighted indices in proportion and never a zero-weight index', () => {
    const r = RandomStream.fromSeed(4);
    const counts = [0, 0, 0];
    for (let i = 0; i < 9000; i++) counts[r.weighted([1, 0, 2])]!++;
    expect(counts[1]).toBe(0);
    expect(counts[2]! / counts[0]!).toBeGreaterThan(1.7);
    expect(counts[2]! / counts[0]!).toBeLessThan(2.3);
  });
});
