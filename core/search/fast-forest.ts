// Runs in: the engine (or a benchmark). A regression random forest with scikit-learn's split rule, as an
// alternative surrogate engine to ml-random-forest: bootstrap samples, every feature considered at every
// split, the threshold halfway between consecutive distinct values, squared-error impurity from prefix
// sums. ml-cart (under ml-random-forest) tries every sample as a threshold and recomputes the error each
// time, which is quadratic per node: 5-15 s per fit of 400 candidates here against tens of milliseconds.
import { RandomStream } from '../base/random.ts';

interface Tree {
  feature: Int32Array;
  threshold: Float64Array;
  left: Int32Array;
  right: Int32Array;
  value: Float64Array;
}

export interface FastForestOptions {
  trees: number;
  /** A node with fewer rows is a leaf (scikit-learn's min_samples_split). */
  minSamplesSplit: number;
  seed: number;
}

export class FastForest {
  private readonly trees: Tree[] = [];

  constructor(
    x: readonly (readonly number[])[],
    y: readonly number[],
    private readonly options: FastForestOptions,
  ) {
    const n = y.length;
    const columns = Array.from({ length: x[0]?.length ?? 0 }, (_, f) =>
      Float64Array.from(x, (row) => row[f] as number),
    );
    const target = Float64Array.from(y);
    for (let t = 0; t < options.trees; t++) {
      const rng = RandomStream.fromSeed(options.seed, `tree:${t}`);
      const rows = Array.from({ length: n }, () => rng.int(n));
      this.trees.push(growTree(columns, target, rows, options.minSamplesSplit));
    }
  }

  /** Per query, the prediction of every tree. */
  treePredictions(queries: readonly (readonly number[])[]): number[][] {
    return queries.map((q) => this.trees.map((tree) => predictTree(tree, q)));
  }
}

function predictTree(tree: Tree, q: readonly number[]): number {
  let node = 0;
  while ((tree.left[node] as number) >= 0) {
    node =
      (q[tree.feature[node] as number] as number) <= (tree.threshold[node] as number)
        ? (tree.left[node] as number)
        : (tree.right[node] as number);
  }
  return tree.value[node] as number;
}

function growTree(columns: Float64Array[], y: Float64Array, rows: number[], minSplit: number): Tree {
  const feature: number[] = [];
  const threshold: number[] = [];
  const left: number[] = [];
  const right: number[] = [];
  const value: number[] = [];
  const scratch = new Uint32Array(rows.length);

  const grow = (members: Uint32Array): number => {
    const node = value.length;
    let sum = 0;
    for (const r of members) sum += y[r] as number;
    feature.push(-1);
    threshold.push(0);
    left.push(-1);
    right.push(-1);
    value.push(members.length > 0 ? sum / members.length : 0);
    if (members.length < minSplit) return node;
    const split = bestSplit(columns, y, members, scratch);
    if (split === null) return node;
    const column = columns[split.feature] as Float64Array;
    feature[node] = split.feature;
    threshold[node] = split.threshold;
    left[node] = grow(members.filter((r) => (column[r] as number) <= split.threshold));
    right[node] = grow(members.filter((r) => (column[r] as number) > split.threshold));
    return node;
  };
  grow(Uint32Array.from(rows));
  return {
    feature: Int32Array.from(feature),
    threshold: Float64Array.from(threshold),
    left: Int32Array.from(left),
    right: Int32Array.from(right),
    value: Float64Array.from(value),
  };
}

/** The split with the least summed squared error of the two sides; null when no split reduces it. */
function bestSplit(
  columns: Float64Array[],
  y: Float64Array,
  members: Uint32Array,
  scratch: Uint32Array,
): { feature: number; threshold: number } | null {
  const n = members.length;
  let total = 0;
  let totalSq = 0;
  for (const r of members) {
    total += y[r] as number;
    totalSq += (y[r] as number) ** 2;
  }
  let best = totalSq - (total * total) / n - 1e-12;
  let result: { feature: number; threshold: number } | null = null;
  const order = scratch.subarray(0, n);
  columns.forEach((column, f) => {
    order.set(members);
    order.sort((a, b) => (column[a] as number) - (column[b] as number));
    let leftSum = 0;
    let leftSq = 0;
    for (let i = 0; i < n - 1; i++) {
      const yi = y[order[i] as number] as number;
      leftSum += yi;
      leftSq += yi * yi;
      const here = column[order[i] as number] as number;
      const next = column[order[i + 1] as number] as number;
      if (here === next) continue;
      const nl = i + 1;
      const rightSum = total - leftSum;
      const error = leftSq - (leftSum * leftSum) / nl + (totalSq - leftSq) - (rightSum * rightSum) / (n - nl);
      if (error < best) {
        best = error;
        const middle = (here + next) / 2;
        // Adjacent doubles: the midpoint rounds onto `next`, which would put it on the wrong side.
        result = { feature: f, threshold: middle === next ? here : middle };
      }
    }
  });
  return result;
}
