import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tensor } from '@tensorflow/tfjs-core';
import type { Tensor } from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RandomStream } from '../../../core/base/random.ts';
import { buildModel } from '../../../core/nn/build-model.ts';
import type { HeadActivation } from '../../../core/nn/build-model.ts';
import { builtinGenome } from '../../../core/nn/builtin-genomes.ts';
import { saveModel } from '../../../core/nn/save-load.ts';
import type { Genome } from '../../../core/searchspace/genome.ts';
import { useCpuBackend } from './cpu-backend.ts';

const PYTHON = '/usr/bin/python3';
const SCRIPT = fileURLToPath(new URL('./torch_reference.py', import.meta.url));
let dir = '';

function requireTorch(): void {
  const probe = spawnSync(PYTHON, ['-c', 'import torch, numpy'], { encoding: 'utf8' });
  if (probe.status !== 0) {
    throw new Error(
      `This test compares against PyTorch and needs ${PYTHON} with torch and numpy importable ` +
        `(Debian: apt-get install python3-torch python3-numpy). ${probe.error?.message ?? probe.stderr.trim()}`,
    );
  }
}

// A non-cubic patch, so a kernel applied on the wrong axes or a transposed layout shows up.
const SHAPE = [2, 8, 12, 16, 1];

const CASES: [string, Genome, HeadActivation, number][] = [
  ['small (conv3d, pseudo-3D, 5x5x1)', builtinGenome('small'), 'softmax', 3],
  [
    'identities, 1x1x1 and 7x7 pseudo-3D, node inputs (1, 2, 0)',
    {
      learningRate: 1e-3,
      filters: 8,
      cells: 5,
      inputs: [1, 2, 0],
      ops: ['identity', 'convP3d_7x7', 'conv3d_1x1x1', 'identity'],
    },
    'sigmoid',
    1,
  ],
  [
    'cardiac cell (3x3x1, 7x7x1) with 4 classes',
    { ...builtinGenome('cardiac'), filters: 8, cells: 5 },
    'softmax',
    4,
  ],
];

describe('the tfjs network against an independent PyTorch forward pass', () => {
  beforeAll(async () => {
    requireTorch();
    await useCpuBackend();
    dir = await mkdtemp(join(tmpdir(), 'emonas-nn-torch-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it.each(CASES)(
    '%s gives the same output for the same weights',
    { timeout: 120_000 },
    async (name, genome, head, classes) => {
      const model = buildModel(genome, { inputShape: [8, 12, 16, 1], classes, head, seed: 4 });
      const modelDir = join(dir, name.replace(/\W+/g, '-'));
      await saveModel(model, modelDir);
      const random = RandomStream.fromSeed(8, name);
      const x = Float32Array.from({ length: SHAPE.reduce((a, b) => a * b, 1) }, () => random.normal());
      await writeFile(join(modelDir, 'x.f32'), x);
      const ours = (model.predict(tensor(x, SHAPE)) as Tensor).dataSync();

      const run = spawnSync(
        PYTHON,
        [
          SCRIPT,
          modelDir,
          JSON.stringify(genome),
          head,
          join(modelDir, 'x.f32'),
          JSON.stringify(SHAPE),
          join(modelDir, 'y.f32'),
        ],
        { encoding: 'utf8' },
      );
      expect(run.status, run.stderr).toBe(0);
      const bytes = await readFile(join(modelDir, 'y.f32'));
      const theirs = new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
      expect(theirs.length).toBe(ours.length);
      let worst = 0;
      for (let i = 0; i < ours.length; i++)
        worst = Math.max(worst, Math.abs((ours[i] ?? 0) - (theirs[i] ?? 0)));
      // Probabilities after ~20 float32 layers: differences of summation order stay around 1e-6.
      expect(worst).toBeLessThan(1e-4);
      model.dispose();
    },
  );
});
