// Runs in: the process that trains networks. The tfjs kernels Conv3D, Conv3DBackpropInputV2 (also the
// transposed convolution's forward pass) and Conv3DBackpropFilterV2 on the WebAssembly engine. Shapes the
// engine does not handle (dilation, strides other than 1 or equal to the kernel for the input gradient,
// non-float inputs) go to the cpu backend's own kernel, so the results are always right.

import {
  backend_util,
  Conv3D,
  Conv3DBackpropFilterV2,
  Conv3DBackpropInputV2,
  type KernelConfig,
  type KernelFunc,
  type TensorInfo,
} from '@tensorflow/tfjs-core';
import type { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import {
  convFilterGrad,
  convForward,
  convInputGrad,
  inputGradSupported,
  type ConvGeometry,
} from './conv3d.ts';
import type { WasmEngine } from './wasm-engine.ts';

type Shape5 = [number, number, number, number, number];
type Triple = [number, number, number] | number;
type Pad = 'valid' | 'same';

export function geometryOf(info: backend_util.Conv3DInfo): ConvGeometry {
  return {
    batch: info.batchSize,
    inD: info.inDepth,
    inH: info.inHeight,
    inW: info.inWidth,
    inC: info.inChannels,
    outD: info.outDepth,
    outH: info.outHeight,
    outW: info.outWidth,
    outC: info.outChannels,
    kd: info.filterDepth,
    kh: info.filterHeight,
    kw: info.filterWidth,
    sd: info.strideDepth,
    sh: info.strideHeight,
    sw: info.strideWidth,
    pd: info.padInfo.front,
    ph: info.padInfo.top,
    pw: info.padInfo.left,
  };
}

function undilated(info: backend_util.Conv3DInfo): boolean {
  return info.dilationDepth === 1 && info.dilationHeight === 1 && info.dilationWidth === 1;
}

function values(backend: MathBackendCPU, t: TensorInfo): Float32Array {
  return backend.data.get(t.dataId).values as Float32Array;
}

function allFloat(...tensors: TensorInfo[]): boolean {
  return tensors.every((t) => t.dtype === 'float32');
}

export function convKernels(
  engine: WasmEngine,
  fallback: Map<string, KernelFunc>,
  backendName: string,
): KernelConfig[] {
  const orFallback = (name: string): KernelFunc => {
    const f = fallback.get(name);
    if (f === undefined) throw new Error(`tfjs cpu backend has no ${name} kernel`);
    return f;
  };
  const conv3dFallback = orFallback(Conv3D);
  const inputGradFallback = orFallback(Conv3DBackpropInputV2);
  const filterGradFallback = orFallback(Conv3DBackpropFilterV2);

  const conv3d: KernelFunc = (args) => {
    const backend = args.backend as MathBackendCPU;
    const { x, filter } = args.inputs as { x: TensorInfo; filter: TensorInfo };
    const { strides, pad, dilations } = args.attrs as unknown as {
      strides: Triple;
      pad: Pad;
      dilations: Triple;
    };
    const info = backend_util.computeConv3DInfo(
      x.shape as Shape5,
      filter.shape as Shape5,
      strides,
      dilations,
      pad,
    );
    if (!undilated(info) || !allFloat(x, filter)) return conv3dFallback(args);
    const y = convForward(engine, values(backend, x), values(backend, filter), geometryOf(info));
    return backend.makeTensorInfo(info.outShape, 'float32', y);
  };

  const inputGrad: KernelFunc = (args) => {
    const backend = args.backend as MathBackendCPU;
    const { dy, filter } = args.inputs as { dy: TensorInfo; filter: TensorInfo };
    const { strides, pad, inputShape } = args.attrs as unknown as {
      strides: Triple;
      pad: Pad;
      inputShape: Shape5;
    };
    const info = backend_util.computeConv3DInfo(inputShape, filter.shape as Shape5, strides, 1, pad);
    const g = geometryOf(info);
    const sameShape = info.outShape.every((n, i) => n === dy.shape[i]);
    if (!sameShape || !inputGradSupported(g) || !allFloat(dy, filter)) return inputGradFallback(args);
    const dx = convInputGrad(engine, values(backend, dy), values(backend, filter), g);
    return backend.makeTensorInfo(inputShape, 'float32', dx);
  };

  const filterGrad: KernelFunc = (args) => {
    const backend = args.backend as MathBackendCPU;
    const { x, dy } = args.inputs as { x: TensorInfo; dy: TensorInfo };
    const { strides, pad, filterShape } = args.attrs as unknown as {
      strides: Triple;
      pad: Pad;
      filterShape: Shape5;
    };
    const info = backend_util.computeConv3DInfo(x.shape as Shape5, filterShape, strides, 1, pad);
    const sameShape = info.outShape.every((n, i) => n === dy.shape[i]);
    if (!sameShape || !allFloat(x, dy)) return filterGradFallback(args);
    const dw = convFilterGrad(engine, values(backend, x), values(backend, dy), geometryOf(info));
    return backend.makeTensorInfo(filterShape, 'float32', dw);
  };

  return [
    { kernelName: Conv3D, backendName, kernelFunc: conv3d },
    { kernelName: Conv3DBackpropInputV2, backendName, kernelFunc: inputGrad },
    { kernelName: Conv3DBackpropFilterV2, backendName, kernelFunc: filterGrad },
  ];
}
