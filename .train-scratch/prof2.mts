import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { registerFastCpuBackend } from '/work/main/core/backend/index.ts';
import { buildModel } from '/work/main/core/nn/build-model.ts';
import { softDiceLoss } from '/work/main/core/train/loss.ts';
import { SMALL_GENOME } from '/work/main/test/unit/train/synthetic.ts';
await registerFastCpuBackend();
await tf.setBackend('emonas-cpu');
const P = (process.argv[2] ?? '16,16,16').split(',').map(Number) as [number, number, number];
const model = buildModel(SMALL_GENOME, { inputShape: [...P, 1], classes: 3, head: 'softmax', seed: 1 });
const opt = tf.train.adam(1e-3);
const x = tf.randomNormal([2, ...P, 1]);
const y = tf.cast(tf.oneHot(tf.randomUniformInt([2, ...P], 0, 3), 3), 'float32');
const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
for (let i = 0; i < 2; i++) {
  const t0 = performance.now();
  const info = await tf.profile(async () => {
    const c = opt.minimize(() => softDiceLoss(y, model.apply(x, { training: true }) as tf.Tensor, 'softmax'), true, vars);
    await c!.data();
    c!.dispose();
  });
  const by = new Map<string, [number, number]>();
  let total = 0;
  for (const k of info.kernels) {
    const t = typeof k.kernelTimeMs === 'number' ? k.kernelTimeMs : 0;
    total += t;
    const e = by.get(k.name) ?? [0, 0];
    by.set(k.name, [e[0] + t, e[1] + 1]);
  }
  const rows = [...by.entries()].sort((a, b) => b[1][0] - a[1][0]).slice(0, 16);
  console.log('wall', Math.round(performance.now() - t0), 'kernels', Math.round(total), info.kernels.length, rows.map(([n, [t, c]]) => `${n}:${Math.round(t)}ms/${c}`).join(' '));
}
process.exit(0);
