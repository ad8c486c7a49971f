// Runs in: any process that builds, loads or trains a network. The identity operation's channel
// replication (method.md section 2.2: the input concatenated with itself floor(F / C_in) times) as a
// parameter-free layer registered for serialisation. A concatenate layer fed the same tensor several times
// would do the same sum, but tfjs-layers' inference executor counts a repeated input once when it decides
// what to free, and disposes the tensor while later layers still need it.

import { concat, serialization, tidy } from '@tensorflow/tfjs-core';
import type { Tensor } from '@tensorflow/tfjs-core';
import { layers } from '@tensorflow/tfjs-layers';

export interface ChannelReplicateArgs {
  copies: number;
  name?: string;
}

export class ChannelReplicate extends layers.Layer {
  static readonly className = 'EmonasChannelReplicate';
  readonly copies: number;

  constructor(args: ChannelReplicateArgs) {
    super(args.name === undefined ? {} : { name: args.name });
    this.copies = args.copies;
  }

  override computeOutputShape(inputShape: (number | null)[] | (number | null)[][]): (number | null)[] {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as (number | null)[];
    const channels = shape[shape.length - 1];
    return [...shape.slice(0, -1), channels == null ? null : channels * this.copies];
  }

  override call(inputs: Tensor | Tensor[]): Tensor {
    const x = Array.isArray(inputs) ? (inputs[0] as Tensor) : inputs;
    return tidy(() => concat(Array<Tensor>(this.copies).fill(x), -1));
  }

  override getConfig(): serialization.ConfigDict {
    return { ...super.getConfig(), copies: this.copies };
  }
}

serialization.registerClass(ChannelReplicate);
