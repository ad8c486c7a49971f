// Runs in: the process that trains networks. MaxPool3D and its gradient for windows that tile the input
// (stride equal to the window, no padding: the network's 2x2x2 pools), channels innermost so every loop
// runs over contiguous memory. The gradient goes to the last maximal voxel of a window in scan order, as
// the cpu backend's does; other pools go to the cpu backend's kernels.

import {
  backend_util,
  MaxPool3D,
  MaxPool3DGrad,
  type KernelConfig,
  type KernelFunc,
  type TensorInfo,
} from '@tensorflow/tfjs-core';
import type { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import type { WasmEngine } from './wasm-engine.ts';
import { maxPoolGradOp, maxPoolOp, type PoolShape } from './wasm-ops.ts';

type Shape5 = [number, number, number, number, number];

interface PoolAttrs {
  filterSize: [number, number, number] | number;
  strides: [number, number, number] | number;
  pad: 'valid' | 'same' | number;
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
}

/** Tiling windows: stride equals window, nothing padded, square in-plane (the cpu gradient's assumption). */
function tiles(info: backend_util.Conv3DInfo): boolean {
  return (
    info.strideDepth === info.filterDepth &&
    info.strideHeight === info.filterHeight &&
    info.strideWidth === info.filterWidth &&
    info.filterHeight === info.filterWidth &&
    info.padInfo.front === 0 &&
    info.padInfo.top === 0 &&
    info.padInfo.left === 0 &&
    info.dilationDepth === 1 &&
    info.dilationHeight === 1 &&
    info.dilationWidth === 1
  );
}

function poolInfo(shape: number[], attrs: PoolAttrs): backend_util.Conv3DInfo {
  return backend_util.computePool3DInfo(
    shape as Shape5,
    attrs.filterSize,
    attrs.strides,
    1,
    attrs.pad,
    attrs.dimRoundingMode,
  );
}

/**
 * Visits every window: for output voxel o (in order) calls visit(o, inputOffsets) with the input offsets of
 * its window in scan order (depth, then row, then column), each the start of C contiguous channels.
 */
function forEachWindow(info: backend_util.Conv3DInfo, visit: (o: number, inputs: Int32Array) => void): void {
  const { batchSize, inDepth, inHeight, inWidth, inChannels: C, outDepth, outHeight, outWidth } = info;
  const fd = info.filterDepth;
  const fh = info.filterHeight;
  const fw = info.filterWidth;
  const offsets = new Int32Array(fd * fh * fw);
  let o = 0;
  for (let b = 0; b < batchSize; b++) {
    for (let d = 0; d < outDepth; d++) {
      for (let h = 0; h < outHeight; h++) {
        for (let w = 0; w < outWidth; w++, o++) {
          let k = 0;
          for (let a = 0; a < fd; a++) {
            for (let r = 0; r < fh; r++) {
              const row = ((b * inDepth + d * fd + a) * inHeight + h * fh + r) * inWidth + w * fw;
              for (let c = 0; c < fw; c++) offsets[k++] = (row + c) * C;
            }
          }
          visit(o, offsets);
        }
      }
    }
  }
}

function poolShape(info: backend_util.Conv3DInfo): PoolShape {
  return {
    B: info.batchSize,
    D: info.inDepth,
    H: info.inHeight,
    W: info.inWidth,
    C: info.inChannels,
    fd: info.filterDepth,
    fh: info.filterHeight,
    fw: info.filterWidth,
  };
}

function maxPool(engine: WasmEngine, fallback: KernelFunc): KernelFunc {
  return (args) => {
    const backend = args.backend as MathBackendCPU;
    const { x } = args.inputs as { x: TensorInfo };
    const info = poolInfo(x.shape, args.attrs as unknown as PoolAttrs);
    if (x.dtype !== 'float32' || !tiles(info)) return fallback(args);
    const xv = backend.data.get(x.dataId).values as Float32Array;
    const fast = maxPoolOp(engine, xv, poolShape(info));
    if (fast !== undefined) return backend.makeTensorInfo(info.outShape, 'float32', fast);
    const C = info.inChannels;
    const y = engine.newTensor(
      info.outShape.reduce((p, n) => p * n, 1),
      'a max-pool',
    );
    // NaN never wins, as in the cpu backend's comparison.
    forEachWindow(info, (o, inputs) => {
      const at = o * C;
      for (let c = 0; c < C; c++) y[at + c] = -Infinity;
      for (const i of inputs) {
        for (let c = 0; c < C; c++) {
          const v = xv[i + c]!;
          if (v > y[at + c]!) y[at + c] = v;
        }
      }
    });
    return backend.makeTensorInfo(info.outShape, 'float32', y);
  };
}

function maxPoolGrad(engine: WasmEngine, fallback: KernelFunc): KernelFunc {
  return (args) => {
    const backend = args.backend as MathBackendCPU;
    const { dy, input } = args.inputs as { dy: TensorInfo; input: TensorInfo };
    const info = poolInfo(input.shape, args.attrs as unknown as PoolAttrs);
    if (input.dtype !== 'float32' || dy.dtype !== 'float32' || !tiles(info)) return fallback(args);
    const xv = backend.data.get(input.dataId).values as Float32Array;
    const gv = backend.data.get(dy.dataId).values as Float32Array;
    const fast = maxPoolGradOp(engine, xv, gv, poolShape(info));
    if (fast !== undefined) return backend.makeTensorInfo(input.shape, 'float32', fast);
    const C = info.inChannels;
    const dx = engine.newTensor(xv.length, 'a max-pool gradient');
    dx.fill(0);
    const best = new Float32Array(C);
    const where = new Int32Array(C);
    forEachWindow(info, (o, inputs) => {
      best.fill(-Infinity);
      where.fill(-1);
      for (const i of inputs) {
        for (let c = 0; c < C; c++) {
          const v = xv[i + c]!;
          if (v >= best[c]!) {
            best[c] = v;
            where[c] = i + c;
          }
        }
      }
      for (let c = 0; c < C; c++) {
        const i = where[c]!;
        if (i >= 0) dx[i] = gv[o * C + c]!;
      }
    });
    return backend.makeTensorInfo(input.shape, 'float32', dx);
  };
}

export function poolKernels(
  engine: WasmEngine,
  fallback: Map<string, KernelFunc>,
  backendName: string,
): KernelConfig[] {
  const original = (name: string): KernelFunc => {
    const f = fallback.get(name);
    if (f === undefined) throw new Error(`tfjs cpu backend has no ${name} kernel`);
    return f;
  };
  return [
    { kernelName: MaxPool3D, backendName, kernelFunc: maxPool(engine, original(MaxPool3D)) },
    { kernelName: MaxPool3DGrad, backendName, kernelFunc: maxPoolGrad(engine, original(MaxPool3DGrad)) },
  ];
}
