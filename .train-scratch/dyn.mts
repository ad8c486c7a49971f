import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { buildModel } from '/work/main/core/nn/build-model.ts';
import { SMALL_GENOME } from '/work/main/test/unit/train/synthetic.ts';
await tf.setBackend('cpu');
let t = performance.now();
const a = buildModel(SMALL_GENOME, { inputShape: [12, 12, 12, 1], classes: 3, head: 'softmax', seed: 1 });
console.log('build ms', Math.round(performance.now() - t));
t = performance.now();
const b = buildModel(SMALL_GENOME, { inputShape: [16, 20, 12, 1], classes: 3, head: 'softmax', seed: 1 });
b.setWeights(a.getWeights());
console.log('build+copy ms', Math.round(performance.now() - t));
const x = tf.randomNormal([1, 16, 20, 12, 1]);
const y1 = a.apply(x) as tf.Tensor;
console.log('apply on other shape', y1.shape);
const y2 = b.predict(x) as tf.Tensor;
console.log('max diff', (await tf.max(tf.abs(tf.sub(y1, y2))).data())[0]);
try { (a.predict(x) as tf.Tensor); console.log('predict ok'); } catch (e) { console.log('predict fails:', (e as Error).message.slice(0, 120)); }
process.exit(0);
