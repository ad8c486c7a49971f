// Runs in: any process that builds, loads or trains a network. Affine-free instance normalisation over
// the three spatial axes (method.md section 2.2: the reference's gamma and beta are never trained, counted
// or saved), as a parameter-free layer registered for serialisation so saved models load back.

import {
  add,
  customGrad,
  div,
  matMul,
  mul,
  ones as onesOf,
  reshape,
  rsqrt,
  serialization,
  square,
  sub,
  tidy,
} from '@tensorflow/tfjs-core';
import type { GradSaveFunc, Tensor, Tensor3D } from '@tensorflow/tfjs-core';
import { layers } from '@tensorflow/tfjs-layers';

export const INSTANCE_NORM_EPSILON = 1e-6;

export interface InstanceNormArgs {
  name?: string;
  epsilon?: number;
}

/**
 * Statistics are taken per sample and channel over [B, V, C] rather than over axes [1, 2, 3] of the 5-D
 * tensor: the same numbers, and tfjs reduces four axes of a 5-D tensor about 20x slower. The gradient is
 * written out so only the normalised output and 1/std are kept for the backward pass, instead of the four
 * full-size intermediates autodiff would keep.
 */
export class InstanceNorm extends layers.Layer {
  static readonly className = 'EmonasInstanceNorm';
  readonly epsilon: number;

  constructor(args: InstanceNormArgs = {}) {
    super(args.name === undefined ? {} : { name: args.name });
    this.epsilon = args.epsilon ?? INSTANCE_NORM_EPSILON;
  }

  override call(inputs: Tensor | Tensor[]): Tensor {
    return instanceNorm(Array.isArray(inputs) ? (inputs[0] as Tensor) : inputs, this.epsilon);
  }

  override getConfig(): serialization.ConfigDict {
    return { ...super.getConfig(), epsilon: this.epsilon };
  }
}

serialization.registerClass(InstanceNorm);

/** (x - mean) / sqrt(var + epsilon) per sample and channel over every axis but the first and last. */
export function instanceNorm(x: Tensor, epsilon = INSTANCE_NORM_EPSILON): Tensor {
  const shape = x.shape;
  const batch = shape[0] ?? 1;
  const channels = shape[shape.length - 1] ?? 1;
  const voxels = x.size / (batch * channels);
  const flatShape = [batch, voxels, channels];
  const normalise = customGrad((...args: (Tensor | GradSaveFunc)[]) => {
    const input = args[0] as Tensor;
    const save = args[1] as GradSaveFunc;
    const voxelOps = new VoxelOps(batch, voxels);
    const flat = reshape(input, flatShape);
    const centred = sub(flat, voxelOps.spread(voxelOps.mean(flat)));
    const rstd = rsqrt(add(voxelOps.mean(square(centred)), epsilon));
    const y = mul(centred, voxelOps.spread(rstd));
    save([y, rstd]);
    return {
      value: reshape(y, shape),
      // dx = rstd * (g - mean(g) - y * mean(g * y)), exact for the population variance with epsilon.
      // tfjs runs a custom gradient outside any per-node tidy, so without this one its intermediates would
      // live until the whole backward pass ends.
      gradFunc: (dy: Tensor, saved: Tensor[]) =>
        tidy(() => {
          const [yn, r] = saved as [Tensor, Tensor];
          const ops = new VoxelOps(batch, voxels);
          const g = reshape(dy, flatShape);
          const centredGrad = sub(sub(g, ops.spread(ops.mean(g))), mul(yn, ops.spread(ops.mean(mul(g, yn)))));
          return reshape(mul(centredGrad, ops.spread(r)), shape);
        }),
    };
  });
  return tidy(() => normalise(x));
}

/**
 * Means over voxels and spreading per-channel values back over voxels, as matrix products with a column of
 * ones: the cpu backend's broadcasting binary ops and non-last-axis reductions are about 5-10x slower. Made
 * afresh in the forward and the backward pass, which run in different tidy scopes.
 */
class VoxelOps {
  private readonly column: Tensor3D;
  private readonly row: Tensor3D;

  constructor(
    batch: number,
    private readonly voxels: number,
  ) {
    this.column = onesOf([batch, voxels, 1]);
    this.row = reshape(this.column, [batch, 1, voxels]);
  }

  /** [B, V, C] -> [B, 1, C] */
  mean(t: Tensor): Tensor {
    return div(matMul(this.row, t as Tensor3D), this.voxels);
  }

  /** [B, 1, C] -> [B, V, C] */
  spread(perChannel: Tensor): Tensor {
    return matMul(this.column, perChannel as Tensor3D);
  }
}
