// Runs in: a plain Node process (`npm run bench:nn`). Times the instance normalisation of core/nn (forward +
// backward, tfjs cpu backend) against the same normalisation written with tfjs's own moments over axes
// [1, 2, 3] and autodiff, and against PyTorch's F.instance_norm on one thread (torch_instance_norm.py under
// /usr/bin/python3), at the shapes a training step meets, and prints the times and ratios.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-layers';
import { instanceNorm } from '../../core/nn/instance-norm.ts';

const PYTHON = '/usr/bin/python3';
const PEER = fileURLToPath(new URL('./torch_instance_norm.py', import.meta.url));
const REPEATS = 3;
/** [B, X, Y, Z, C]: level 0 of the small genome on a 32^3 patch, and of a 32-filter genome on 64x64x16. */
const SHAPES: [number, number, number, number, number][] = [
  [1, 32, 32, 32, 8],
  [2, 64, 64, 16, 32],
];

function plainInstanceNorm(x: tf.Tensor): tf.Tensor {
  const { mean, variance } = tf.moments(x, [1, 2, 3], true);
  return tf.div(tf.sub(x, mean), tf.sqrt(tf.add(variance, 1e-6)));
}

function best(f: (x: tf.Tensor) => tf.Tensor, shape: number[]): number {
  const x = tf.randomNormal(shape, 0, 1, 'float32', 1);
  const weight = tf.randomNormal(shape, 0, 1, 'float32', 2);
  const step = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(f(t), weight)));
  let fastest = Infinity;
  for (let r = 0; r <= REPEATS; r++) {
    const start = performance.now();
    const g = step(x);
    g.dataSync();
    const elapsed = performance.now() - start;
    g.dispose();
    if (r > 0) fastest = Math.min(fastest, elapsed);
  }
  tf.dispose([x, weight]);
  return fastest;
}

/** One same-shape elementwise add: the floor any normalisation in tfjs's cpu backend builds on. */
function addMs(shape: number[]): number {
  const a = tf.randomNormal(shape, 0, 1, 'float32', 3);
  let fastest = Infinity;
  for (let r = 0; r <= REPEATS; r++) {
    const start = performance.now();
    const sum = tf.add(a, a);
    sum.dataSync();
    sum.dispose();
    if (r > 0) fastest = Math.min(fastest, performance.now() - start);
  }
  a.dispose();
  return fastest;
}

function torchMs(shape: number[]): number {
  const run = spawnSync(PYTHON, [PEER, JSON.stringify(shape), String(REPEATS)], { encoding: 'utf8' });
  if (run.status !== 0) {
    throw new Error(
      `The PyTorch peer needs ${PYTHON} with torch importable: ${run.error?.message ?? run.stderr}`,
    );
  }
  return (JSON.parse(run.stdout) as { ms: number }).ms;
}

async function main(): Promise<void> {
  await tf.setBackend('cpu');
  process.stdout.write('Instance norm, forward + backward, best of 3 (ms)\n');
  process.stdout.write(
    'shape [B,X,Y,Z,C]      core/nn   tfjs moments   torch 1 thread   ours/moments   ours/torch   one tfjs add\n',
  );
  for (const shape of SHAPES) {
    const ours = best((x) => instanceNorm(x), shape);
    const plain = best(plainInstanceNorm, shape);
    const peer = torchMs(shape);
    process.stdout.write(
      `${JSON.stringify(shape).padEnd(20)} ${ours.toFixed(1).padStart(9)} ${plain.toFixed(1).padStart(14)} ` +
        `${peer.toFixed(1).padStart(16)} ${(ours / plain).toFixed(2).padStart(14)} ${(ours / peer).toFixed(2).padStart(12)} ` +
        `${addMs(shape).toFixed(1).padStart(14)}\n`,
    );
  }
}

await main();
