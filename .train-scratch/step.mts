import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { buildModel } from '/work/main/core/nn/build-model.ts';
import { softDiceLoss } from '/work/main/core/train/loss.ts';
import { SMALL_GENOME } from '/work/main/test/unit/train/synthetic.ts';
await tf.setBackend(process.argv[2] ?? 'cpu');
const P = Number(process.argv[3] ?? 16);
const model = buildModel(SMALL_GENOME, { inputShape: [P, P, P, 1], classes: 3, head: 'softmax', seed: 1 });
console.log('params', model.countParams());
const opt = tf.train.adam(1e-3);
const x = tf.randomNormal([2, P, P, P, 1]);
const y = tf.cast(tf.oneHot(tf.randomUniformInt([2, P, P, P], 0, 3), 3), "float32");
const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
for (let i = 0; i < 4; i++) {
  const t0 = performance.now();
  const c = opt.minimize(() => softDiceLoss(y, model.apply(x, { training: true }) as tf.Tensor, 'softmax'), true, vars);
  await c!.data();
  c!.dispose();
  const t1 = performance.now();
  const p = tf.tidy(() => model.predict(tf.zeros([1, P, P, P, 1])) as tf.Tensor);
  await p.data(); p.dispose();
  console.log('step ms', Math.round(t1 - t0), 'predict ms', Math.round(performance.now() - t1));
}
