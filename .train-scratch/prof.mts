import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { buildModel } from '/work/main/core/nn/build-model.ts';
import { softDiceLoss } from '/work/main/core/train/loss.ts';
import { SMALL_GENOME } from '/work/main/test/unit/train/synthetic.ts';
await tf.setBackend('cpu');
const P = Number(process.argv[2] ?? 8);
const model = buildModel(SMALL_GENOME, { inputShape: [P, P, P, 1], classes: 3, head: 'softmax', seed: 1 });
const opt = tf.train.adam(1e-3);
const x = tf.randomNormal([2, P, P, P, 1]);
const y = tf.cast(tf.oneHot(tf.randomUniformInt([2, P, P, P], 0, 3), 3), 'float32');
const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
for (let i = 0; i < 2; i++) {
  const info = await tf.profile(async () => {
    const c = opt.minimize(() => softDiceLoss(y, model.apply(x, { training: true }) as tf.Tensor, 'softmax'), true, vars);
    await c!.data();
    c!.dispose();
  });
  const by = new Map<string, [number, number]>();
  for (const k of info.kernels) {
    const t = typeof k.kernelTimeMs === 'number' ? k.kernelTimeMs : 0;
    const e = by.get(k.name) ?? [0, 0];
    by.set(k.name, [e[0] + t, e[1] + 1]);
  }
  const rows = [...by.entries()].sort((a, b) => b[1][0] - a[1][0]).slice(0, 12);
  console.log(info.kernels.length, rows.map(([n, [t, c]]) => `${n}:${Math.round(t)}ms/${c}`).join(' '));
}
