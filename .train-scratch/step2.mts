import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { registerFastCpuBackend } from '/work/main/core/backend/index.ts';
import { buildModel } from '/work/main/core/nn/build-model.ts';
import { softDiceLoss } from '/work/main/core/train/loss.ts';
import { SMALL_GENOME } from '/work/main/test/unit/train/synthetic.ts';
await registerFastCpuBackend();
await tf.setBackend(process.argv[2] ?? 'emonas-cpu');
const P = (process.argv[3] ?? '16,16,16').split(',').map(Number) as [number, number, number];
const B = Number(process.argv[4] ?? 2);
const model = buildModel(SMALL_GENOME, { inputShape: [...P, 1], classes: 3, head: 'softmax', seed: 1 });
console.log('backend', tf.getBackend(), 'params', model.countParams());
const opt = tf.train.adam(1e-3);
const x = tf.randomNormal([B, ...P, 1]);
const y = tf.cast(tf.oneHot(tf.randomUniformInt([B, ...P], 0, 3), 3), 'float32');
const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
for (let i = 0; i < 4; i++) {
  const t0 = performance.now();
  const c = opt.minimize(() => softDiceLoss(y, model.apply(x, { training: true }) as tf.Tensor, 'softmax'), true, vars);
  await c!.data();
  c!.dispose();
  const t1 = performance.now();
  const p = tf.tidy(() => model.predict(tf.zeros([1, ...P, 1])) as tf.Tensor);
  await p.data(); p.dispose();
  console.log('step ms', Math.round(t1 - t0), 'predict ms', Math.round(performance.now() - t1), 'tensors', tf.memory().numTensors);
}
process.exit(0);
