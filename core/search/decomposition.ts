// Runs in: any process. MOEA/D decomposition (method.md section 4.2): weight vectors, neighbourhoods
// and the penalty-based boundary intersection (PBI) against the origin of the normalised space.

export type Point2 = readonly [number, number];

/**
 * n weight vectors (w1, 1 - w1) with w1 evenly spaced from `from` to `to`; the first component weights
 * f1. The reference covers only w1 in [0.5, 1].
 */
export function weightVectors(n: number, from: number, to: number): [number, number][] {
  return Array.from({ length: n }, (_, i) => {
    const w1 = n === 1 ? from : from + (i * (to - from)) / (n - 1);
    return [w1, 1 - w1];
  });
}

/** For each weight vector, the `size` nearest weight vectors by Euclidean distance, itself included. */
export function neighbourhoods(weights: readonly Point2[], size: number): number[][] {
  return weights.map((w) =>
    weights
      .map((v, j) => ({ j, d: Math.round(Math.hypot(v[0] - w[0], v[1] - w[1]) * 1e12) }))
      .sort((a, b) => a.d - b.d || a.j - b.j)
      .slice(0, size)
      .map((e) => e.j)
      .sort((a, b) => a - b),
  );
}

/** PBI: d1 = |f.w|/|w|, d2 = |f - d1 w/|w||, g = d1 + theta d2 (reference point at the origin). */
export function pbi(f: Point2, w: Point2, theta: number): number {
  const norm = Math.hypot(w[0], w[1]);
  const d1 = Math.abs(f[0] * w[0] + f[1] * w[1]) / norm;
  const d2 = Math.hypot(f[0] - (d1 * w[0]) / norm, f[1] - (d1 * w[1]) / norm);
  return d1 + theta * d2;
}

/** p_m(g) = max(phi0 (1 - ln(g + 1)/ln(horizon)), floor) (method.md section 4.4). */
export function mutationRate(generation: number, horizon: number, phi0: number, floor: number): number {
  return Math.max(phi0 * (1 - Math.log(generation + 1) / Math.log(horizon)), floor);
}
