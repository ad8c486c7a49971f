// Runs in: a child process of the CPU training benchmark (bench/cpu-train/run.ts), one per tfjs backend
// and network. Builds the network, then answers each JSON line {"steps": n} on stdin with the time of n
// training steps, the loss and the process's peak memory, so the parent can alternate it with PyTorch.

import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import * as tfl from '@tensorflow/tfjs-layers';
import { registerFastCpuBackend } from '../../core/backend/index.ts';
import { buildModel } from '../../core/nn/build-model.ts';
import { softDiceLoss } from '../../core/train/loss.ts';
import { SMALL_NETWORK, candidateGenome, type NetworkName } from './networks.ts';

const { values } = parseArgs({
  options: {
    network: { type: 'string' },
    backend: { type: 'string' },
    data: { type: 'string' },
    threads: { type: 'string' },
  },
});
const network = values.network as NetworkName;
const backendName = values.backend ?? 'emonas-cpu';

if (backendName === 'emonas-cpu') {
  await registerFastCpuBackend(values.threads === undefined ? {} : { threads: Number(values.threads) });
}
await tf.setBackend(backendName);
tf.env().set('DEBUG', false);

interface Task {
  model: tfl.LayersModel;
  x: tf.Tensor;
  y: tf.Tensor;
  loss: (y: tf.Tensor, p: tf.Tensor) => tf.Scalar;
}

function smallTask(): Task {
  const { batch, shape, filters, classes } = SMALL_NETWORK;
  const model = tfl.sequential({
    layers: [
      tfl.layers.conv3d({
        inputShape: [...shape, 1],
        filters,
        kernelSize: 3,
        padding: 'same',
        activation: 'relu',
      }),
      tfl.layers.conv3d({ filters, kernelSize: 3, padding: 'same', activation: 'relu' }),
      tfl.layers.conv3d({ filters: classes, kernelSize: 1, padding: 'same' }),
    ],
  });
  const x = tf.randomNormal([batch, ...shape, 1], 0, 1, 'float32', 1);
  const y = tf.oneHot(tf.randomUniform([batch, ...shape], 0, classes, 'int32', 2), classes);
  return {
    model,
    x,
    y,
    loss: (labels, logits) => tf.losses.softmaxCrossEntropy(labels, logits) as tf.Scalar,
  };
}

function candidateTask(dataDir: string): Task {
  const meta = JSON.parse(readFileSync(join(dataDir, 'patch.json'), 'utf8')) as {
    batch: number;
    shape: [number, number, number];
    classes: number;
  };
  const model = buildModel(candidateGenome(), {
    inputShape: [...meta.shape, 1],
    classes: meta.classes,
    head: 'softmax',
    seed: 1,
  });
  const image = new Float32Array(readFileSync(join(dataDir, 'image.f32')).buffer.slice(0));
  const labels = new Int32Array(new Uint8Array(readFileSync(join(dataDir, 'labels.u8'))));
  const x = tf.tensor(image, [meta.batch, ...meta.shape, 1]);
  const y = tf.tidy(() => tf.oneHot(tf.tensor(labels, [meta.batch, ...meta.shape], 'int32'), meta.classes));
  return { model, x, y, loss: (labels, probabilities) => softDiceLoss(labels, probabilities, 'softmax') };
}

const task = network === 'small' ? smallTask() : candidateTask(values.data ?? '');
const optimizer = tf.train.adam(1e-3);

function step(): number {
  const cost = optimizer.minimize(() => task.loss(task.y, task.model.apply(task.x) as tf.Tensor), true);
  const value = cost === null ? NaN : (cost.dataSync()[0] ?? NaN);
  cost?.dispose();
  return value;
}

const lines = createInterface({ input: process.stdin });
process.stdout.write(JSON.stringify({ ready: true, backend: tf.getBackend() }) + '\n');
for await (const line of lines) {
  const { steps } = JSON.parse(line) as { steps: number };
  const ms: number[] = [];
  const cpuMs: number[] = [];
  let loss = NaN;
  for (let i = 0; i < steps; i++) {
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    loss = step();
    const cpu = process.cpuUsage(c0);
    ms.push(performance.now() - t0);
    cpuMs.push((cpu.user + cpu.system) / 1000);
  }
  // VmHWM, not getrusage's maxrss: that one keeps the mark of the image exec replaced, the parent's.
  const hwm = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync('/proc/self/status', 'utf8'));
  const peakRssMiB = hwm ? Number(hwm[1]) / 1024 : NaN;
  process.stdout.write(
    JSON.stringify({ ms, cpuMs, loss, peakRssMiB, tensors: tf.memory().numTensors }) + '\n',
  );
}
process.exit(0);
