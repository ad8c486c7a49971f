// The reference protocol's pieces as the trainer and the predictor call them: drawPatch (the trainer's
// sampler) under 'reference' draws uniform slabs with the reference's augmentation and soft masks; the
// validation slabs tile a volume; predictSlabWindows runs the reference's stride and front padding.
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { RandomStream } from '../../../core/base/random.ts';
import type { Shape3 } from '../../../core/datasets/pipeline/grid.ts';
import { NO_AUGMENTATION } from '../../../core/datasets/pipeline/augment.ts';
import { indexForeground, type PreparedCase } from '../../../core/datasets/pipeline/prepared-case.ts';
import {
  drawSlabTransform,
  extractSlab,
  inverseMap,
  REFERENCE_SLAB_AUGMENTATION,
  sampleSlab,
  type SlabAugmentation,
} from '../../../core/datasets/pipeline/slab-patch.ts';
import { slabStarts, validationSlabs } from '../../../core/datasets/pipeline/slabs.ts';
import { drawPatch } from '../../../core/train/batch.ts';
import type { TrainSettings } from '../../../core/train/job.ts';
import { REFERENCE_OBJECTIVES } from '../../../core/train/objectives.ts';
import { withProtocol } from '../../../core/train/setup/protocol.ts';
import { predictSlabWindows, slabWindowStarts } from '../../../core/train/slab-inference.ts';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const NONE: SlabAugmentation = { rotationDegrees: 0, shiftFraction: 0, zoom: [1, 1], flipProbability: 0 };

/** A case whose image value is its slice index, with class 1 on its first two slices only. */
function sliceCase(shape: Shape3): PreparedCase {
  const n = shape[0] * shape[1] * shape[2];
  const image = new Float32Array(n);
  const label = new Uint8Array(n);
  for (let v = 0; v < n; v++) {
    image[v] = v % shape[2];
    label[v] = v % shape[2] < 2 ? 1 : 0;
  }
  return {
    id: 'c',
    image: { data: image, shape },
    label: { data: label, shape },
    foreground: indexForeground(label, 2),
  };
}

function settings(protocol: 'emonas' | 'reference', patch: Shape3, slab?: SlabAugmentation): TrainSettings {
  const base = withProtocol(
    {
      epochs: 1,
      stepsPerEpoch: 1,
      batchSize: 1,
      patch,
      seed: 0,
      earlyStopping: null,
      plateau: null,
      objectives: { ...REFERENCE_OBJECTIVES, budget: 1 },
      maxSeconds: null,
    },
    protocol,
  );
  return slab ? { ...base, slabAugmentation: slab } : { ...base, augmentation: NO_AUGMENTATION };
}

describe("the trainer's sampler under the reference protocol (method.md 5.1, 5.3)", () => {
  it('draws one uniform crop per patch, never aimed at the foreground', () => {
    const shape: Shape3 = [8, 8, 64];
    const c = sliceCase(shape);
    const rng = RandomStream.fromSeed(1, 'data');
    const draws = 4900;
    const counts = new Array<number>(49).fill(0);
    for (let i = 0; i < draws; i++) {
      const patch = drawPatch(c, rng, settings('reference', [8, 8, 16], NONE), 2);
      const start = patch.image[0] as number;
      expect(patch.image[15]).toBe(start + 15);
      counts[start] = (counts[start] as number) + 1;
    }
    expect(
      Math.min(...counts),
      'every slice offset 0..48 is drawn (method.md 5.3: U{0..48})',
    ).toBeGreaterThan(50);
    expect(Math.max(...counts), 'uniformly').toBeLessThan(160);
    // The foreground (slices 0-1) lies only in slabs starting at 0 or 1: uniform gives them 2/49 of the
    // draws, while this project's sampler aims a third of its patches at it.
    const emonas = RandomStream.fromSeed(1, 'data');
    let aimed = 0;
    for (let i = 0; i < 2000; i++) {
      const start = drawPatch(c, emonas, settings('emonas', [8, 8, 16]), 2).image[0] as number;
      if (start <= 1) aimed++;
    }
    expect(aimed / 2000, 'precondition: the emonas sampler oversamples the foreground').toBeGreaterThan(0.25);
    expect(((counts[0] as number) + (counts[1] as number)) / draws).toBeLessThan(0.07);
  });

  it('draws rotation, shift, zoom and flip over the reference ranges', () => {
    const rng = RandomStream.fromSeed(2, 'data');
    const slab: Shape3 = [128, 128, 16];
    const a = REFERENCE_SLAB_AUGMENTATION;
    expect(a, 'method.md 5.3').toEqual({
      rotationDegrees: 90,
      shiftFraction: 0.4,
      zoom: [0.5, 1.5],
      flipProbability: 0.5,
    });
    const t = Array.from({ length: 4000 }, () => drawSlabTransform(rng, [0, 0, 0], slab, a));
    const degrees = t.map((x) => (x.angle * 180) / Math.PI);
    expect(Math.min(...degrees)).toBeGreaterThanOrEqual(-90);
    expect(Math.min(...degrees)).toBeLessThan(-88);
    expect(Math.max(...degrees)).toBeLessThanOrEqual(90);
    expect(Math.max(...degrees)).toBeGreaterThan(88);
    for (const axis of [0, 1] as const) {
      const shifts = t.map((x) => x.shift[axis]);
      expect(Math.max(...shifts.map(Math.abs))).toBeLessThanOrEqual(0.4 * 128);
      expect(Math.max(...shifts)).toBeGreaterThan(0.39 * 128);
    }
    const zooms = t.map((x) => x.zoom);
    expect(Math.min(...zooms)).toBeGreaterThanOrEqual(0.5);
    expect(Math.min(...zooms)).toBeLessThan(0.51);
    expect(Math.max(...zooms)).toBeLessThanOrEqual(1.5);
    expect(Math.max(...zooms)).toBeGreaterThan(1.49);
    const flipped = t.filter((x) => x.flip).length / t.length;
    expect(flipped).toBeGreaterThan(0.46);
    expect(flipped).toBeLessThan(0.54);
  });

  it('the sampler the trainer calls applies those transforms to the slab, image and soft masks alike', () => {
    const shape: Shape3 = [16, 16, 20];
    const c = sliceCase(shape);
    // Class 1 is a square in-plane on every slice here, so rotating it leaves partial voxels at its edge.
    const label = c.label.data;
    for (let v = 0; v < label.length; v++) {
      const i = Math.floor(v / (16 * 20));
      const j = Math.floor(v / 20) % 16;
      label[v] = i >= 4 && i < 12 && j >= 4 && j < 12 ? 1 : 0;
    }
    const s = settings('reference', [16, 16, 16], REFERENCE_SLAB_AUGMENTATION);
    const one = RandomStream.fromSeed(5, 'data');
    const two = RandomStream.fromSeed(5, 'data');
    const fromTrainer = drawPatch(c, one, s, 2);
    const direct = sampleSlab(c, 2, two, [16, 16, 16], REFERENCE_SLAB_AUGMENTATION);
    expect(fromTrainer.image).toEqual(direct.image);
    expect(fromTrainer.target).toEqual(direct.target);
    const target = fromTrainer.target as Float32Array;
    expect(target.length).toBe(16 * 16 * 16 * 2);
    let soft = 0;
    for (let v = 0; v < 16 * 16 * 16; v++) {
      const sum = (target[2 * v] as number) + (target[2 * v + 1] as number);
      expect(sum).toBeCloseTo(1, 5);
      const p = target[2 * v + 1] as number;
      if (p > 0.01 && p < 0.99) soft++;
    }
    expect(
      soft,
      'masks are interpolated like the image and never re-binarised (method.md 5.3 item 4)',
    ).toBeGreaterThan(0);
  });

  it('maps each output voxel as rotation . shift . zoom about the Keras centre, then flips left-right', () => {
    const slab: Shape3 = [8, 8, 1];
    const centre = 8 / 2 + 0.5;
    const turn = {
      start: [0, 0, 0] as Shape3,
      angle: Math.PI / 2,
      shift: [0, 0] as [number, number],
      zoom: 1,
      flip: false,
    };
    const [u, w] = inverseMap(slab, turn, centre + 1, centre);
    expect(u).toBeCloseTo(centre, 12);
    expect(w).toBeCloseTo(centre + 1, 12);
    const zoomed = inverseMap(slab, { ...turn, angle: 0, zoom: 2 }, centre + 1, centre);
    expect(zoomed[0]).toBeCloseTo(centre + 2, 12);
    const shifted = inverseMap(slab, { ...turn, angle: 0, shift: [3, 0] }, centre, centre);
    expect(shifted[0]).toBeCloseTo(centre + 3, 12);
    const c = sliceCase([8, 8, 1]);
    for (let v = 0; v < 64; v++) c.image.data[v] = Math.floor(v / 8);
    const flipped = extractSlab(c, 2, slab, { ...turn, angle: 0, flip: true });
    expect(flipped.image[0]).toBe(7);
    expect(flipped.image[63]).toBe(0);
  });
});

describe('validation slabs (method.md 5.1)', () => {
  it('cut a 128 x 128 x 64 volume into 4 non-overlapping 128 x 128 x 16 slabs', () => {
    expect(slabStarts([128, 128, 64], [128, 128, 16])).toEqual([
      [0, 0, 0],
      [0, 0, 16],
      [0, 0, 32],
      [0, 0, 48],
    ]);
  });

  it('cover every voxel of another size exactly once, a narrower side centred', () => {
    const shape: Shape3 = [10, 20, 40];
    const c = sliceCase(shape);
    const slabs = validationSlabs([c], [16, 16, 16]);
    expect(slabs).toHaveLength(2 * 3);
    const seen = new Uint8Array(10 * 20 * 40);
    for (const { start } of slabs)
      for (let a = 0; a < 16; a++)
        for (let b = 0; b < 16; b++)
          for (let s = 0; s < 16; s++) {
            const [i, j, k] = [start[0] + a, start[1] + b, start[2] + s];
            if (i < 0 || i >= 10 || j < 0 || j >= 20 || k < 0 || k >= 40) continue;
            seen[(i * 20 + j) * 40 + k]! += 1;
          }
    expect(seen.every((n) => n === 1)).toBe(true);
    expect(slabs[0]?.start[0]).toBe(-3);
  });
});

describe('the sliding window of the reference protocol (method.md 6.3)', () => {
  it('pads 15 zero slices in front, moves one slice at a time and averages the outputs', async () => {
    expect(slabWindowStarts(64, 16)).toHaveLength(64);
    expect(slabWindowStarts(64, 16)[0]).toBe(-15);
    expect(slabWindowStarts(64, 16)[63]).toBe(48);
    const shape: Shape3 = [4, 4, 20];
    const image = { data: new Float32Array(4 * 4 * 20).fill(1), shape };
    const windows: Float32Array[] = [];
    // A stand-in network: its sigmoid output is the window's count of image voxels (1) over its size.
    const model = {
      apply(x: tf.Tensor) {
        const values = x.dataSync() as Float32Array;
        windows.push(Float32Array.from(values));
        const inside = values.reduce((a, b) => a + b, 0) / values.length;
        return tf.fill(x.shape, inside);
      },
    };
    const probabilities = await predictSlabWindows(model, image, {
      patch: [4, 4, 16],
      head: 'sigmoid',
      classes: 2,
    });
    expect(windows, 'one window per slice').toHaveLength(20);
    const firstSlices = (w: Float32Array, n: number): number[] => Array.from(w).filter((_, v) => v % 16 < n);
    expect(
      firstSlices(windows[0] as Float32Array, 15).every((v) => v === 0),
      '15 zero slices in front',
    ).toBe(true);
    expect((windows[0] as Float32Array)[15]).toBe(1);
    // Slice k is covered by the windows starting at k-15 .. min(k, 4); each says (covered slices)/16.
    const v = 4 * 4 * 20;
    for (const k of [0, 7, 19]) {
      const starts = slabWindowStarts(20, 16).filter((s) => s <= k && s + 16 > k);
      const expected =
        starts.reduce((a, s) => a + (Math.min(20, s + 16) - Math.max(0, s)) / 16, 0) / starts.length;
      expect(probabilities[v + k]).toBeCloseTo(expected, 5);
    }
    expect(tf.memory().numTensors).toBeLessThan(10);
  });
});
