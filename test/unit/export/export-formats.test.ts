// The PyTorch and ONNX exports of networks that together use all ten operations, both heads, identity's
// channel copies and repeated summands, against the source tfjs model: same logits in Debian's PyTorch and in
// ONNX Runtime, the ONNX checker passes, the PyTorch module trains; a model folder whose weights do not match
// its genome is refused.
import { cp, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RandomStream } from '../../../core/base/random.ts';
import type { Shape3 } from '../../../core/datasets/pipeline/grid.ts';
import { OPS, type Genome } from '../../../core/searchspace/genome.ts';
import { exportModelFolder } from '../../../core/service/export.ts';
import { MODEL_CARD_FILE } from '../../../core/train/model-card.ts';
import { tempDirs } from '../../fixtures/temp-dir.ts';
import { useCpuBackend } from '../nn/cpu-backend.ts';
import {
  checkOnnx,
  maxAbsDiff,
  requirePython,
  runOnnx,
  runTorchExport,
  tfjsOutputs,
  writeModelFolder,
} from './helpers.ts';

const temp = tempDirs('export');
// A non-cubic patch, so a kernel on the wrong axes or a transposed layout shows up; two cases per batch, so
// instance norm's per-sample statistics are checked too.
const PATCH: Shape3 = [8, 12, 16];
const SHAPE = [2, 1, ...PATCH];

interface Case {
  name: string;
  genome: Genome;
  labels: number;
}

// A genome has four operation slots, so three networks cover the ten operations. Identity is stem op 1 in
// the first (one channel copied to 8), reads node 0 in the second (half the filters copied twice after a
// pool, passed through elsewhere) and node 1 in the third (a summand that occurs twice).
const CASES: Case[] = [
  {
    name: 'identity stem, 1x1x1, 3x3x3, 3x3x1; softmax over 3 classes',
    genome: {
      learningRate: 1e-3,
      filters: 8,
      cells: 5,
      inputs: [0, 1, 2],
      ops: ['identity', 'conv3d_1x1x1', 'conv3d_3x3x3', 'conv2d_3x3'],
    },
    labels: 3,
  },
  {
    name: '5x5x1, pseudo-3D 3 and 5, identity of node 0; sigmoid head',
    genome: {
      learningRate: 1e-3,
      filters: 8,
      cells: 5,
      inputs: [1, 0, 2],
      ops: ['conv2d_5x5', 'convP3d_3x3', 'identity', 'convP3d_5x5'],
    },
    labels: 2,
  },
  {
    name: '5x5x5, identity of node 1, 7x7x1, pseudo-3D 7; softmax over 4 classes',
    genome: {
      learningRate: 1e-3,
      filters: 8,
      cells: 5,
      inputs: [1, 0, 2],
      ops: ['conv3d_5x5x5', 'identity', 'conv2d_7x7', 'convP3d_7x7'],
    },
    labels: 4,
  },
];

const onnxOps = new Set<string>();

describe('PyTorch and ONNX exports against the source network', () => {
  beforeAll(async () => {
    requirePython(['torch', 'numpy'], 'python3-torch python3-numpy');
    requirePython(['onnx'], 'python3-onnx');
    await useCpuBackend();
  });
  afterAll(() => temp.cleanup());

  it('the three test networks use every operation of the search space', () => {
    const used = new Set(CASES.flatMap((c) => c.genome.ops));
    expect([...used].sort()).toEqual([...OPS].sort());
  });

  it.each(CASES)(
    '$name: same logits in PyTorch and ONNX Runtime; PyTorch trains',
    { timeout: 180_000 },
    async (c) => {
      const dir = temp.make();
      const model = await writeModelFolder(dir, c.genome, c.labels, PATCH, CASES.indexOf(c) + 1);
      const random = RandomStream.fromSeed(11, c.name);
      const x = Float32Array.from({ length: SHAPE.reduce((a, b) => a * b, 1) }, () => random.normal());
      // One channel: channels-first and channels-last hold the same numbers.
      const source = tfjsOutputs(model, x, [2, ...PATCH, 1]);
      // The comparison means something only if the logits vary a lot more than the tolerance.
      expect(Math.max(...source.logits) - Math.min(...source.logits)).toBeGreaterThan(1);
      model.dispose();

      const torchDir = join(temp.make(), 'pytorch');
      const torchFiles = await exportModelFolder(dir, 'pytorch', torchDir);
      expect(torchFiles.files.map((f) => f.slice(torchDir.length + 1)).sort()).toEqual([
        'README.md',
        'model.py',
        'weights.safetensors',
      ]);
      const classes = c.labels === 2 ? 2 : c.labels;
      const target = Uint8Array.from({ length: 2 * PATCH[0] * PATCH[1] * PATCH[2] }, () =>
        random.int(classes),
      );
      const torchRun = await runTorchExport(torchDir, x, SHAPE, target, 5);
      expect(torchRun.logits.length).toBe(source.logits.length);
      // ~25 float32 layers with different summation orders: differences stay near 1e-6.
      expect(maxAbsDiff(torchRun.logits, source.logits)).toBeLessThanOrEqual(1e-4);
      const card = JSON.parse(await readFile(join(dir, MODEL_CARD_FILE), 'utf8')) as { params: number };
      expect(torchRun.parameters).toBe(card.params);
      expect(torchRun.losses).toHaveLength(5);
      expect(torchRun.losses[4]).toBeLessThan(torchRun.losses[0] as number);

      const onnxDir = join(temp.make(), 'onnx');
      await exportModelFolder(dir, 'onnx', onnxDir);
      const checked = checkOnnx(join(onnxDir, 'model.onnx'));
      expect(checked.opsets['']).toBe(17);
      expect(checked.inputs).toEqual(['image']);
      expect(checked.outputs).toEqual(['logits', 'probabilities']);
      expect(JSON.parse(checked.metadata['emonas.genome'] ?? 'null')).toEqual(c.genome);
      expect(checked.metadata['emonas.preprocessing']).toContain('z-score per case');
      for (const op of checked.op_types) onnxOps.add(op);
      const ort = await runOnnx(join(onnxDir, 'model.onnx'), x, SHAPE);
      expect(maxAbsDiff(ort.logits, source.logits)).toBeLessThanOrEqual(1e-4);
      expect(maxAbsDiff(ort.probabilities, source.probabilities)).toBeLessThanOrEqual(1e-4);
    },
  );

  it('the ONNX exports above used every kind of node the mapping has', () => {
    expect([...onnxOps].sort()).toEqual(
      [
        'Concat',
        'Conv',
        'ConvTranspose',
        'InstanceNormalization',
        'MaxPool',
        'Relu',
        'Sigmoid',
        'Softmax',
        'Sum',
      ].sort(),
    );
  });

  it(
    'refuses a model folder whose saved network is not its genome, and never overwrites',
    { timeout: 60_000 },
    async () => {
      const first = CASES[0] as Case;
      const dir = temp.make();
      const model = await writeModelFolder(dir, first.genome, first.labels, PATCH, 5);
      model.dispose();
      const changed = temp.make();
      await cp(dir, changed, { recursive: true });
      const cardFile = join(changed, MODEL_CARD_FILE);
      const card = JSON.parse(await readFile(cardFile, 'utf8')) as { genome: Genome };
      card.genome.ops = ['identity', 'conv3d_1x1x1', 'conv3d_5x5x5', 'conv2d_3x3'];
      await writeFile(cardFile, JSON.stringify(card));
      await expect(exportModelFolder(changed, 'onnx', join(temp.make(), 'out'))).rejects.toMatchObject({
        code: 'unsupported_format',
        message: expect.stringContaining(`The saved network in ${changed} does not match the genome`),
      });

      const out = join(temp.make(), 'out');
      const tfjs = await exportModelFolder(dir, 'tfjs', out);
      expect(tfjs.files.map((f) => f.slice(out.length + 1)).sort()).toEqual([
        'emonas-model.json',
        'genome.json',
        'model.json',
        'weights.bin',
      ]);
      await exportModelFolder(dir, 'pytorch', out);
      await expect(exportModelFolder(dir, 'onnx', out)).rejects.toMatchObject({
        code: 'exists',
        message: expect.stringContaining(join(out, 'README.md')),
      });
    },
  );
});
