// Runs in: any process that trains a network (a training worker, tests). Registers the gradient of the
// transposed 3D convolution, which TensorFlow.js 4.22 lacks on every backend (kernel Conv3DBackpropInputV2,
// tfjs issue #6323), so the decoder's up-convolutions can be trained. Importing this file registers it.

import {
  conv3d,
  Conv3DBackpropFilterV2,
  Conv3DBackpropInputV2,
  engine,
  getGradient,
  registerGradient,
} from '@tensorflow/tfjs-core';
import type {
  Conv3DBackpropInputV2Attrs,
  GradConfig,
  NamedAttrMap,
  Tensor,
  Tensor5D,
} from '@tensorflow/tfjs-core';

/**
 * The transposed convolution y = A_W^T x is the adjoint of z -> conv3d(z, W). So dL/dx = A_W g = conv3d(g, W)
 * with the same strides and padding, and the filter gradient is that of conv3d(g, W) against x, i.e.
 * conv3d's backprop-filter with g as its input and x as its output gradient.
 */
export const conv3dTransposeGradConfig: GradConfig = {
  kernelName: Conv3DBackpropInputV2,
  inputsToSave: ['dy', 'filter'],
  gradFunc: (g: Tensor | Tensor[], saved: Tensor[], attrs: NamedAttrMap) => {
    const [x, filter] = saved as [Tensor5D, Tensor5D];
    const { strides, pad } = attrs as unknown as Conv3DBackpropInputV2Attrs;
    const gradient = g as Tensor5D;
    return {
      dy: () => conv3d(gradient, filter, strides, pad),
      filter: () =>
        engine().runKernel(Conv3DBackpropFilterV2, { x: gradient, dy: x }, {
          strides,
          pad,
          filterShape: filter.shape,
        } as unknown as NamedAttrMap) as Tensor5D,
    };
  },
};

/** Idempotent; a later tfjs that ships its own gradient keeps it. */
export function registerConv3dTransposeGradient(): void {
  if (getGradient(Conv3DBackpropInputV2) === undefined) registerGradient(conv3dTransposeGradConfig);
}

registerConv3dTransposeGradient();
