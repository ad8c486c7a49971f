// Runs in: any process. Two-objective Pareto tools (both objectives minimised): the first front (Kung's
// sweep, as pygmo's non_dominated_front_2d), NSGA-II ordering (select_best_N_mo), and hypervolume.
import type { Point2 } from './decomposition.ts';

/**
 * Indices of the non-dominated points, sorted by f1 ascending, ties by f2. Exact duplicates do not
 * dominate each other, so both are kept.
 */
export function nonDominated2d(points: readonly Point2[]): number[] {
  const order = points
    .map((_, i) => i)
    .sort((a, b) => {
      const pa = points[a] as Point2;
      const pb = points[b] as Point2;
      return pa[0] - pb[0] || pa[1] - pb[1] || a - b;
    });
  const front: number[] = [];
  let bestF2 = Infinity;
  let f1AtBest = Infinity;
  for (const i of order) {
    const [f1, f2] = points[i] as Point2;
    const dominated = bestF2 < f2 || (bestF2 === f2 && f1AtBest < f1);
    if (!dominated) front.push(i);
    if (f2 < bestF2) {
      bestF2 = f2;
      f1AtBest = f1;
    }
  }
  return front;
}

/** The successive non-dominated fronts (each sorted as nonDominated2d sorts). */
export function nonDominatedFronts(points: readonly Point2[]): number[][] {
  const fronts: number[][] = [];
  let remaining = points.map((_, i) => i);
  while (remaining.length > 0) {
    const local = nonDominated2d(remaining.map((i) => points[i] as Point2));
    const front = local.map((k) => remaining[k] as number);
    fronts.push(front);
    const taken = new Set(front);
    remaining = remaining.filter((i) => !taken.has(i));
  }
  return fronts;
}

/** NSGA-II crowding distance of each member of one front; boundary points get Infinity. */
export function crowdingDistances(points: readonly Point2[], front: readonly number[]): Map<number, number> {
  const distance = new Map<number, number>(front.map((i) => [i, 0]));
  if (front.length <= 2) {
    for (const i of front) distance.set(i, Infinity);
    return distance;
  }
  for (const axis of [0, 1] as const) {
    const sorted = [...front].sort(
      (a, b) => (points[a] as Point2)[axis] - (points[b] as Point2)[axis] || a - b,
    );
    const first = sorted[0] as number;
    const last = sorted[sorted.length - 1] as number;
    const span = (points[last] as Point2)[axis] - (points[first] as Point2)[axis];
    distance.set(first, Infinity);
    distance.set(last, Infinity);
    if (span <= 0) continue;
    for (let k = 1; k < sorted.length - 1; k++) {
      const i = sorted[k] as number;
      const gap =
        (points[sorted[k + 1] as number] as Point2)[axis] - (points[sorted[k - 1] as number] as Point2)[axis];
      distance.set(i, (distance.get(i) as number) + gap / span);
    }
  }
  return distance;
}

/**
 * The best n points in NSGA-II order: whole fronts first, then the next front by crowding distance,
 * largest first. Returns indices in that order.
 */
export function selectBestN(points: readonly Point2[], n: number): number[] {
  const chosen: number[] = [];
  for (const front of nonDominatedFronts(points)) {
    if (chosen.length >= n) break;
    if (chosen.length + front.length <= n) {
      chosen.push(...front);
      continue;
    }
    const crowding = crowdingDistances(points, front);
    const byCrowding = [...front].sort(
      (a, b) => (crowding.get(b) as number) - (crowding.get(a) as number) || a - b,
    );
    chosen.push(...byCrowding.slice(0, n - chosen.length));
  }
  return chosen;
}

/** Area dominated by the points and bounded by the reference point (points beyond it add nothing). */
export function hypervolume2d(points: readonly Point2[], reference: Point2): number {
  const inside = points.filter((p) => p[0] < reference[0] && p[1] < reference[1]);
  const front = nonDominated2d(inside).map((i) => inside[i] as Point2);
  let volume = 0;
  let ceiling = reference[1];
  for (const [f1, f2] of front) {
    if (f2 >= ceiling) continue;
    volume += (reference[0] - f1) * (ceiling - f2);
    ceiling = f2;
  }
  return volume;
}
