// Runs in: any process. Resampling a grid to a new shape over the same field of view: linear for
// intensities and probabilities, nearest neighbour for label maps (they stay hard). Output voxel x maps to
// input coordinate (x + 0.5) * n / m - 0.5, so resampling to m and back to n lands on the original centres.
import { gridSize, type Grid, type Shape3 } from './grid.ts';

function sourceCoordinate(x: number, from: number, to: number): number {
  return ((x + 0.5) * from) / to - 0.5;
}

/** Linear resampling, one axis at a time (separable, so this is exactly trilinear). */
export function resampleLinear(grid: Grid, shape: Shape3): Grid {
  let current = grid;
  for (let axis = 0; axis < 3; axis++) {
    if (current.shape[axis] !== shape[axis]) current = resampleAxis(current, axis, shape[axis] as number);
  }
  return current === grid ? { data: grid.data.slice(), shape: [...grid.shape] } : current;
}

function resampleAxis(grid: Grid, axis: number, size: number): Grid {
  const from = grid.shape[axis] as number;
  const shape: Shape3 = [...grid.shape];
  shape[axis] = size;
  const out = new Float32Array(gridSize(shape));
  const strides: Shape3 = [grid.shape[1] * grid.shape[2], grid.shape[2], 1];
  const stride = strides[axis] as number;
  const lo = new Int32Array(size);
  const weight = new Float32Array(size);
  for (let x = 0; x < size; x++) {
    const s = Math.min(Math.max(sourceCoordinate(x, from, size), 0), from - 1);
    const f = Math.min(Math.floor(s), Math.max(from - 2, 0));
    lo[x] = f;
    weight[x] = from > 1 ? s - f : 0;
  }
  const outStrides: Shape3 = [shape[1] * shape[2], shape[2], 1];
  const others = [0, 1, 2].filter((a) => a !== axis) as [number, number];
  const [p, q] = others;
  const src = grid.data;
  const hiStep = from > 1 ? stride : 0;
  for (let u = 0; u < (shape[p] as number); u++) {
    for (let v = 0; v < (shape[q] as number); v++) {
      const inBase = u * (strides[p] as number) + v * (strides[q] as number);
      const outBase = u * (outStrides[p] as number) + v * (outStrides[q] as number);
      const outStride = outStrides[axis] as number;
      for (let x = 0; x < size; x++) {
        const i0 = inBase + (lo[x] as number) * stride;
        const w = weight[x] as number;
        out[outBase + x * outStride] = (src[i0] as number) * (1 - w) + (src[i0 + hiStep] as number) * w;
      }
    }
  }
  return { data: out, shape };
}

/** Nearest-neighbour resampling for label maps. */
export function resampleNearest(grid: Grid<Uint8Array>, shape: Shape3): Grid<Uint8Array> {
  const index = (axis: number): Int32Array => {
    const from = grid.shape[axis] as number;
    const to = shape[axis] as number;
    const map = new Int32Array(to);
    for (let x = 0; x < to; x++) {
      map[x] = Math.min(from - 1, Math.max(0, Math.round(sourceCoordinate(x, from, to))));
    }
    return map;
  };
  const [ia, ib, ic] = [index(0), index(1), index(2)];
  const out = new Uint8Array(gridSize(shape));
  const [, n1, n2] = grid.shape;
  let o = 0;
  for (let a = 0; a < shape[0]; a++) {
    const rowA = (ia[a] as number) * n1;
    for (let b = 0; b < shape[1]; b++) {
      const base = (rowA + (ib[b] as number)) * n2;
      for (let c = 0; c < shape[2]; c++) out[o++] = grid.data[base + (ic[c] as number)] as number;
    }
  }
  return { data: out, shape };
}
