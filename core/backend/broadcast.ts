// Runs in: any process. Broadcasting two shapes into the fewest nested loops: dimensions where both
// operands either advance or both repeat are merged, so [B,D,H,W,C] against [C] becomes [B*D*H*W, C] and
// [B,V,C] against [B,1,C] becomes [B, V, C] with a stride of 0 for the repeated operand.

export interface BroadcastPlan {
  outShape: number[];
  /** Merged loop extents, outermost first; their product is the output size. */
  dims: number[];
  /** Element strides of each operand per merged dimension (0 where it repeats). */
  aStrides: number[];
  bStrides: number[];
}

/** The plan, or undefined when the shapes do not broadcast (tfjs's own kernel then reports it). */
export function planBroadcast(
  aShape: readonly number[],
  bShape: readonly number[],
): BroadcastPlan | undefined {
  const rank = Math.max(aShape.length, bShape.length);
  const outShape: number[] = [];
  const dims: number[] = [];
  const aUse: boolean[] = [];
  const bUse: boolean[] = [];
  for (let i = 0; i < rank; i++) {
    const a = aShape[i - rank + aShape.length] ?? 1;
    const b = bShape[i - rank + bShape.length] ?? 1;
    if (a !== b && a !== 1 && b !== 1) return undefined;
    const n = Math.max(a, b);
    outShape.push(n);
    if (n === 1) continue;
    const useA = a === n;
    const useB = b === n;
    const last = dims.length - 1;
    if (last >= 0 && aUse[last] === useA && bUse[last] === useB) {
      dims[last] = (dims[last] as number) * n;
    } else {
      dims.push(n);
      aUse.push(useA);
      bUse.push(useB);
    }
  }
  if (dims.length === 0) {
    dims.push(1);
    aUse.push(true);
    bUse.push(true);
  }
  const aStrides = stridesFor(dims, aUse);
  const bStrides = stridesFor(dims, bUse);
  return { outShape, dims, aStrides, bStrides };
}

function stridesFor(dims: number[], use: boolean[]): number[] {
  const strides = new Array<number>(dims.length).fill(0);
  let stride = 1;
  for (let i = dims.length - 1; i >= 0; i--) {
    if (use[i]) {
      strides[i] = stride;
      stride *= dims[i] as number;
    }
  }
  return strides;
}

/**
 * Calls inner(outOffset, aOffset, bOffset, n, aStep, bStep) once per run of the innermost merged
 * dimension, covering the whole output in order.
 */
export function forEachRun(
  plan: BroadcastPlan,
  inner: (o: number, a: number, b: number, n: number, aStep: number, bStep: number) => void,
): void {
  const { dims, aStrides, bStrides } = plan;
  const depth = dims.length - 1;
  const n = dims[depth] as number;
  const aStep = aStrides[depth] as number;
  const bStep = bStrides[depth] as number;
  if (depth === 0) {
    inner(0, 0, 0, n, aStep, bStep);
    return;
  }
  const index = new Array<number>(depth).fill(0);
  let a = 0;
  let b = 0;
  const runs = dims.slice(0, depth).reduce((p, d) => p * d, 1);
  for (let r = 0, o = 0; r < runs; r++, o += n) {
    inner(o, a, b, n, aStep, bStep);
    for (let k = depth - 1; k >= 0; k--) {
      const i = (index[k] as number) + 1;
      if (i < (dims[k] as number)) {
        index[k] = i;
        a += aStrides[k] as number;
        b += bStrides[k] as number;
        break;
      }
      index[k] = 0;
      a -= (aStrides[k] as number) * ((dims[k] as number) - 1);
      b -= (bStrides[k] as number) * ((dims[k] as number) - 1);
    }
  }
}
