import { describe, expect, it } from 'vitest';
import { RandomStream } from '../../../core/base/random.ts';
import { gridSize, type Grid, type Shape3 } from '../../../core/datasets/pipeline/grid.ts';
import { extractPatch, identityTransform } from '../../../core/datasets/pipeline/patch.ts';
import { DEFAULT_AUGMENTATION, NO_AUGMENTATION } from '../../../core/datasets/pipeline/augment.ts';
import { chooseStart, samplePatch } from '../../../core/datasets/pipeline/sampling.ts';
import { indexForeground, type PreparedCase } from '../../../core/datasets/pipeline/prepared-case.ts';

function ramp(shape: Shape3): Grid {
  const data = new Float32Array(gridSize(shape));
  for (let n = 0; n < data.length; n++) data[n] = n + 1;
  return { data, shape };
}

const at = (shape: Shape3, a: number, b: number, c: number): number => (a * shape[1] + b) * shape[2] + c;

describe('patch extraction', () => {
  it('copies exactly without augmentation and pads outside the case with 0', () => {
    const image = ramp([5, 6, 7]);
    const { image: p } = extractPatch(image, undefined, [4, 4, 4], identityTransform([2, -1, 4]));
    for (let a = 0; a < 4; a++)
      for (let b = 0; b < 4; b++)
        for (let c = 0; c < 4; c++) {
          const [i, j, k] = [a + 2, b - 1, c + 4];
          const inside = i < 5 && j >= 0 && j < 6 && k < 7;
          expect(p[at([4, 4, 4], a, b, c)]).toBe(inside ? image.data[at([5, 6, 7], i, j, k)] : 0);
        }
  });

  it('mirrors along the requested axes', () => {
    const image = ramp([4, 4, 4]);
    const t = {
      ...identityTransform([0, 0, 0] as Shape3),
      flip: [true, false, true] as [boolean, boolean, boolean],
    };
    const { image: p } = extractPatch(image, undefined, [4, 4, 4], t);
    expect(p[at([4, 4, 4], 0, 1, 0)]).toBe(image.data[at([4, 4, 4], 3, 1, 3)]);
    expect(p[at([4, 4, 4], 2, 3, 1)]).toBe(image.data[at([4, 4, 4], 1, 3, 2)]);
  });

  it('rotates in the d1 x d2 plane by a quarter turn onto exact voxels', () => {
    const shape: Shape3 = [5, 5, 2];
    const image = ramp(shape);
    const label = { data: new Uint8Array(gridSize(shape)), shape };
    label.data[at(shape, 4, 2, 1)] = 2;
    const t = { ...identityTransform([0, 0, 0] as Shape3), angle: Math.PI / 2 };
    const out = extractPatch(image, label, shape, t);
    // Output (a, b) reads source (2 - (b - 2), 2 + (a - 2)) = (4 - b, a).
    for (let a = 0; a < 5; a++)
      for (let b = 0; b < 5; b++)
        expect(out.image[at(shape, a, b, 1)]).toBeCloseTo(image.data[at(shape, 4 - b, a, 1)] as number, 3);
    expect(out.label?.[at(shape, 2, 0, 1)]).toBe(2);
  });

  it('keeps labels hard under any rotation and zoom', () => {
    const shape: Shape3 = [16, 16, 4];
    const label = { data: new Uint8Array(gridSize(shape)), shape };
    for (let n = 0; n < label.data.length; n++) label.data[n] = (n >> 3) % 3;
    const t = { ...identityTransform([0, 0, 0] as Shape3), angle: 0.37, zoom: 1.13 };
    const out = extractPatch(ramp(shape), label, shape, t);
    expect(new Set(out.label)).toEqual(new Set([0, 1, 2]));
  });
});

function smallStructureCase(): PreparedCase {
  const shape: Shape3 = [40, 40, 40];
  const label = new Uint8Array(gridSize(shape));
  label[at(shape, 30, 5, 33)] = 1;
  label[at(shape, 31, 5, 33)] = 2;
  return {
    id: 'c',
    image: ramp(shape),
    label: { data: label, shape },
    foreground: indexForeground(label, 3),
  };
}

describe('patch sampling', () => {
  it('indexes each foreground class', () => {
    const c = smallStructureCase();
    expect(c.foreground.map((f) => f.length)).toEqual([0, 1, 1]);
  });

  it('centres forced patches on foreground and keeps them inside the case', () => {
    const c = smallStructureCase();
    const rng = RandomStream.fromSeed(1, 'test');
    for (let n = 0; n < 20; n++) {
      const start = chooseStart(c.image.shape, [16, 16, 16], rng, c.foreground, true);
      // Classes at d1 = 30 / 31 put the centre (index 8) there; d3 = 33 is clamped to the last start, 24.
      expect([
        [22, 0, 24],
        [23, 0, 24],
      ]).toContainEqual(start);
    }
    const random = new Set<string>();
    for (let n = 0; n < 20; n++)
      random.add(chooseStart(c.image.shape, [16, 16, 16], rng, c.foreground, false).join());
    expect(random.size).toBeGreaterThan(10);
  });

  it('places a case smaller than the patch wholly inside it', () => {
    const rng = RandomStream.fromSeed(2, 'test');
    for (let n = 0; n < 20; n++) {
      const start = chooseStart([35, 50, 36], [48, 64, 48], rng, [], false);
      expect(start[0]).toBeGreaterThanOrEqual(-13);
      expect(start[0]).toBeLessThanOrEqual(0);
      expect(start[1]).toBeGreaterThanOrEqual(-14);
      expect(start[2]).toBeGreaterThanOrEqual(-12);
    }
  });

  it('oversamples foreground at the requested rate and is reproducible', () => {
    const c = smallStructureCase();
    const settings = {
      patch: [16, 16, 16] as Shape3,
      foregroundProbability: 0.33,
      augmentation: DEFAULT_AUGMENTATION,
    };
    const rng = RandomStream.fromSeed(3, 'data');
    let withForeground = 0;
    const n = 300;
    for (let s = 0; s < n; s++) if (samplePatch(c, rng, settings).label?.some((v) => v > 0)) withForeground++;
    // Random 16^3 positions in 40^3 rarely hit a 2-voxel structure, so the rate is about 0.33.
    expect(withForeground / n).toBeGreaterThan(0.25);
    expect(withForeground / n).toBeLessThan(0.45);
    const a = samplePatch(c, RandomStream.fromSeed(9, 'data'), settings);
    const b = samplePatch(c, RandomStream.fromSeed(9, 'data'), settings);
    expect(Array.from(a.image)).toEqual(Array.from(b.image));
  });

  it('leaves intensities untouched without augmentation', () => {
    const c = smallStructureCase();
    const settings = {
      patch: [40, 40, 40] as Shape3,
      foregroundProbability: 0,
      augmentation: NO_AUGMENTATION,
    };
    const p = samplePatch(c, RandomStream.fromSeed(4, 'data'), settings);
    expect(Array.from(p.image)).toEqual(Array.from(c.image.data));
  });
});
