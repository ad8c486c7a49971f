// Runs in: the engine's WebAssembly instances (see kernels.ts). Max-pooling and its gradient for windows
// that tile the input.

import { param } from './shared';

// Max-pooling with windows that tile the input (stride equal to window, no padding).

/**
 * One output plane (batch item and output depth) of a max-pool, or of its gradient: dx gets dy at the last
 * maximal voxel of each window in scan order and 0 elsewhere in it, as the cpu backend's gradient; NaN
 * never wins the forward pass and never takes a gradient.
 * Params: 0 x, 1 y (forward) or dy, 2 dx, 3 D, 4 H, 5 W, 6 C, 7 fd, 8 fh, 9 fw, 10 outD, 11 outH, 12 outW.
 */
export function maxPoolChunk(chunk: i32, gradient: bool): void {
  const x = <usize>param(0);
  const D = param(3);
  const H = param(4);
  const W = param(5);
  const C = param(6);
  const fd = param(7);
  const fh = param(8);
  const fw = param(9);
  const outD = param(10);
  const outH = param(11);
  const outW = param(12);
  const b = chunk / outD;
  const od = chunk % outD;
  const voxelBytes = (<usize>C) << 2;
  for (let oh = 0; oh < outH; oh++) {
    for (let ow = 0; ow < outW; ow++) {
      const o =
        <usize>param(1) +
        (((<usize>((b * outD + od) * outH + oh) * <usize>outW + <usize>ow) * <usize>C) << 2);
      const corner = (<usize>((b * D + od * fd) * H + oh * fh) * <usize>W + <usize>(ow * fw)) * voxelBytes;
      for (let c = 0; c < C; c += 4) {
        const lanes = min<i32>(4, C - c);
        const at = (<usize>c) << 2;
        let best = f32x4.splat(-Infinity);
        let where = i32x4.splat(-1);
        let position = 0;
        for (let a = 0; a < fd; a++) {
          for (let r = 0; r < fh; r++) {
            for (let q = 0; q < fw; q++, position++) {
              const p = x + corner + (<usize>(a * H + r) * <usize>W + <usize>q) * voxelBytes + at;
              const v = lanes == 4 ? v128.load(p) : partialLoad(p, lanes);
              const wins = gradient ? f32x4.ge(v, best) : f32x4.gt(v, best);
              best = v128.bitselect(v, best, wins);
              where = v128.bitselect(i32x4.splat(position), where, wins);
            }
          }
        }
        if (!gradient) {
          partialStore(o + at, best, lanes);
          continue;
        }
        const g = lanes == 4 ? v128.load(o + at) : partialLoad(o + at, lanes);
        position = 0;
        for (let a = 0; a < fd; a++) {
          for (let r = 0; r < fh; r++) {
            for (let q = 0; q < fw; q++, position++) {
              const mine = i32x4.eq(where, i32x4.splat(position));
              const p =
                <usize>param(2) + corner + (<usize>(a * H + r) * <usize>W + <usize>q) * voxelBytes + at;
              partialStore(p, v128.and(g, mine), lanes);
            }
          }
        }
      }
    }
  }
}

/** The first `lanes` (1 to 3) floats at p, the rest zero. */
function partialLoad(p: usize, lanes: i32): v128 {
  let v = f32x4.splat(0);
  v = f32x4.replace_lane(v, 0, load<f32>(p));
  if (lanes > 1) v = f32x4.replace_lane(v, 1, load<f32>(p, 4));
  if (lanes > 2) v = f32x4.replace_lane(v, 2, load<f32>(p, 8));
  return v;
}

function partialStore(p: usize, v: v128, lanes: i32): void {
  if (lanes == 4) {
    v128.store(p, v);
    return;
  }
  store<f32>(p, f32x4.extract_lane(v, 0));
  if (lanes > 1) store<f32>(p, f32x4.extract_lane(v, 1), 4);
  if (lanes > 2) store<f32>(p, f32x4.extract_lane(v, 2), 8);
}
