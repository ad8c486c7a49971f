// A real hippocampus case (the bundled Task04 demo) through a model folder as emonas train lays one out:
// the label maps made from the PyTorch and the ONNX export, after the preprocessing their README describes,
// equal emonas predict's label map voxel for voxel, and the PyTorch export trains on the case.
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gridSize, type Shape3 } from '../../../core/datasets/pipeline/grid.ts';
import {
  preprocessImage,
  preprocessLabel,
  restoreLabelMap,
} from '../../../core/datasets/pipeline/preprocess.ts';
import { fromCanonical, toCanonical } from '../../../core/io/orientation.ts';
import { openVolume } from '../../../core/io/volume-files.ts';
import type { VoxelArray } from '../../../core/io/volume.ts';
import { builtinGenome } from '../../../core/nn/builtin-genomes.ts';
import { exportModelFolder } from '../../../core/service/export.ts';
import { predict } from '../../../core/service/predict.ts';
import { WHOLE_CASE_FACTOR } from '../../../core/train/inference.ts';
import { readModelCard, type ModelCard } from '../../../core/train/model-card.ts';
import { tempDirs } from '../../fixtures/temp-dir.ts';
import { writeCandidateModel } from '../viewer/fixtures.ts';
import { requirePython, runOnnx, runTorchExport } from './helpers.ts';

const DEMO = fileURLToPath(new URL('../../../resources/demo/Task04_Hippocampus_demo', import.meta.url));
const CASE = 'hippocampus_001';
const IMAGE = join(DEMO, 'imagesTr', `${CASE}.nii.gz`);
const LABEL = join(DEMO, 'labelsTr', `${CASE}.nii.gz`);
const temp = tempDirs('export-hippocampus');

interface Prepared {
  card: ModelCard;
  /** The network's input: the preprocessed case, zero-padded (centred) to a multiple of the divisor. */
  input: Float32Array;
  window: Shape3;
  offset: Shape3;
  /** Class indices of the ground truth on the same padded grid, for training. */
  target: Uint8Array;
  restore: (probabilities: Float32Array) => VoxelArray;
}

/** The case as the export README's steps prepare it, and the way back from class probabilities to labels. */
async function prepare(modelDir: string): Promise<Prepared> {
  const card = await readModelCard(modelDir);
  const { plan } = card;
  const { volume: canonical, transform } = toCanonical((await openVolume(IMAGE)).readFrame(0));
  const { grid, record } = preprocessImage(canonical, plan);
  const label = toCanonical((await openVolume(LABEL)).readFrame(0)).volume;
  const labelGrid = preprocessLabel(label, plan, record, LABEL);
  const divisor = 2 ** ((card.genome.cells - 1) / 2);
  const window = grid.shape.map((n) => Math.ceil(n / divisor) * divisor) as Shape3;
  // emonas predict takes this case in one window (not sliding windows), so one forward pass must match it.
  expect(gridSize(window)).toBeLessThanOrEqual(WHOLE_CASE_FACTOR * gridSize(plan.patch));
  const offset = window.map((w, d) => Math.floor((w - (grid.shape[d] as number)) / 2)) as Shape3;
  const input = new Float32Array(gridSize(window));
  const target = new Uint8Array(gridSize(window));
  const [n0, n1, n2] = grid.shape;
  for (let i = 0; i < n0; i++)
    for (let j = 0; j < n1; j++)
      for (let k = 0; k < n2; k++) {
        const from = (i * n1 + j) * n2 + k;
        const to = ((i + offset[0]) * window[1] + j + offset[1]) * window[2] + k + offset[2];
        input[to] = grid.data[from] as number;
        target[to] = labelGrid.data[from] as number;
      }
  const classes = plan.labels.length;
  const restore = (probabilities: Float32Array) => {
    // Crop the padding; a sigmoid head's one channel p becomes background 1 - p and foreground p.
    const v = gridSize(grid.shape);
    const perClass = new Float32Array(classes * v);
    const channels = plan.head === 'softmax' ? classes : 1;
    const w = gridSize(window);
    for (let i = 0; i < n0; i++)
      for (let j = 0; j < n1; j++)
        for (let k = 0; k < n2; k++) {
          const at = ((i + offset[0]) * window[1] + j + offset[1]) * window[2] + k + offset[2];
          const voxel = (i * n1 + j) * n2 + k;
          for (let c = 0; c < channels; c++) {
            const p = probabilities[c * w + at] as number;
            if (plan.head === 'softmax') perClass[c * v + voxel] = p;
            else {
              perClass[voxel] = 1 - p;
              perClass[(c + 1) * v + voxel] = p;
            }
          }
        }
    const labels = restoreLabelMap(perClass, record, plan);
    return fromCanonical({ ...canonical, data: labels.data, dataType: 'uint8' }, transform).data;
  };
  return { card, input, window, offset, target, restore };
}

/** The central `size` voxels of the padded input and target. */
function centre(p: Prepared, size: Shape3): { input: Float32Array; target: Uint8Array } {
  const start = size.map((n, d) => Math.floor(((p.window[d] as number) - n) / 2));
  const input = new Float32Array(gridSize(size));
  const target = new Uint8Array(gridSize(size));
  for (let i = 0; i < size[0]; i++)
    for (let j = 0; j < size[1]; j++)
      for (let k = 0; k < size[2]; k++) {
        const from =
          ((i + (start[0] as number)) * p.window[1] + j + (start[1] as number)) * p.window[2] +
          k +
          (start[2] as number);
        input[(i * size[1] + j) * size[2] + k] = p.input[from] as number;
        target[(i * size[1] + j) * size[2] + k] = p.target[from] as number;
      }
  return { input, target };
}

function mismatches(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let n = 0;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) n++;
  return n;
}

describe('exports of a trained-layout model folder on a real hippocampus case', () => {
  let modelDir = '';
  let predicted: ArrayLike<number> = [];
  let prepared: Prepared;

  beforeAll(async () => {
    requirePython(['torch', 'numpy'], 'python3-torch python3-numpy');
    modelDir = temp.make();
    await writeCandidateModel(modelDir, DEMO, { genome: builtinGenome('small'), val: [CASE], seed: 3 });
    const out = temp.make();
    const response = await predict({ model: modelDir, input: IMAGE, out });
    predicted = (await openVolume(response.files[0]?.output ?? '')).readFrame(0).data;
    prepared = await prepare(modelDir);
  }, 300_000);
  afterAll(() => temp.cleanup());

  it("emonas predict's label map holds every label, so agreeing with it is not trivial", () => {
    // Without a post-processing decision in the folder, predict writes the plain argmax the exports give.
    expect(prepared.card.postprocessing).toBeUndefined();
    const values = new Set(Array.from(predicted));
    expect([...values].sort()).toEqual(prepared.card.plan.labels.map((l) => l.value));
  });

  it('the PyTorch export gives the same label map and trains on the case', { timeout: 300_000 }, async () => {
    const dir = join(temp.make(), 'pytorch');
    await exportModelFolder(modelDir, 'pytorch', dir);
    const run = await runTorchExport(dir, prepared.input, [1, 1, ...prepared.window], prepared.target, 0);
    expect(mismatches(prepared.restore(run.probabilities), predicted)).toBe(0);

    // Training steps on the whole case take long on a shared CPU; its centre, where the hippocampus is, will do.
    const crop = centre(prepared, [16, 24, 16]);
    expect(new Set(crop.target).size).toBe(prepared.card.plan.labels.length);
    const trained = await runTorchExport(dir, crop.input, [1, 1, 16, 24, 16], crop.target, 3);
    expect(trained.losses).toHaveLength(3);
    expect(trained.losses[2]).toBeLessThan(trained.losses[0] as number);
  });

  it('the ONNX export in ONNX Runtime gives the same label map', { timeout: 300_000 }, async () => {
    const dir = join(temp.make(), 'onnx');
    await exportModelFolder(modelDir, 'onnx', dir);
    const { probabilities } = await runOnnx(join(dir, 'model.onnx'), prepared.input, [
      1,
      1,
      ...prepared.window,
    ]);
    expect(mismatches(prepared.restore(probabilities), predicted)).toBe(0);
  });
});
