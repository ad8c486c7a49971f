// Runs in: a training worker (or a test, in process). Adam at the genome's learning rate, which the
// plateau schedule can lower between epochs, and whose whole state (step count, the running products
// beta^t of the bias correction, both moments of every variable) a checkpoint saves and a resumed training
// restores bit for bit.
import * as tf from '@tensorflow/tfjs-core';
import type { OptimizerSnapshot, SavedTensor } from './checkpoint.ts';

interface MomentVariable {
  originalName: string;
  variable: tf.Variable;
}

/**
 * The fields of tfjs's AdamOptimizer (4.22) that its public getWeights/setWeights cannot round-trip:
 * setWeights recomputes beta^t as a power, which differs in the last bits from the product the steps
 * accumulated, so a resumed training would drift from the uninterrupted one.
 */
interface AdamInternals {
  accBeta1: tf.Variable;
  accBeta2: tf.Variable;
  accumulatedFirstMoment: MomentVariable[];
  accumulatedSecondMoment: MomentVariable[];
  iterations_: number | undefined;
}

async function saved(moments: MomentVariable[]): Promise<SavedTensor[]> {
  return Promise.all(
    moments.map(async (m) => ({
      name: m.originalName,
      shape: [...m.variable.shape],
      values: Float32Array.from((await m.variable.data()) as Float32Array),
    })),
  );
}

export class AdjustableAdam extends tf.AdamOptimizer {
  constructor(learningRate: number) {
    super(learningRate, 0.9, 0.999, 1e-8);
  }

  get rate(): number {
    return this.learningRate;
  }

  setLearningRate(rate: number): void {
    this.learningRate = rate;
  }

  private get internals(): AdamInternals {
    return this as unknown as AdamInternals;
  }

  async captureState(): Promise<OptimizerSnapshot> {
    const a = this.internals;
    return {
      iterations: this.iterations,
      accBeta1: ((await a.accBeta1.data()) as Float32Array)[0] as number,
      accBeta2: ((await a.accBeta2.data()) as Float32Array)[0] as number,
      firstMoments: await saved(a.accumulatedFirstMoment),
      secondMoments: await saved(a.accumulatedSecondMoment),
    };
  }

  /** Continues from a captured state: the next step is the one the captured optimizer would have taken. */
  restoreState(state: OptimizerSnapshot): void {
    const a = this.internals;
    tf.dispose([...a.accumulatedFirstMoment, ...a.accumulatedSecondMoment].map((m) => m.variable));
    const moments = (list: SavedTensor[]): MomentVariable[] =>
      list.map((t) => ({
        originalName: t.name,
        variable: tf.variable(tf.tensor(t.values, t.shape, 'float32'), false),
      }));
    // tidy disposes the temporary tensors; the variables made from them stay.
    tf.tidy(() => {
      a.accumulatedFirstMoment = moments(state.firstMoments);
      a.accumulatedSecondMoment = moments(state.secondMoments);
      a.accBeta1.assign(tf.scalar(state.accBeta1));
      a.accBeta2.assign(tf.scalar(state.accBeta2));
    });
    a.iterations_ = state.iterations;
  }
}
