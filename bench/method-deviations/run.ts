// Runs in: a plain Node process (npx tsx bench/method-deviations/run.ts). Two differences between this
// project's default training protocol and the reference (docs/method-deviations.md) that can be measured
// in a minute without training a network:
// 1. Intensity normalisation on the Task04_Hippocampus cases: per-case z-score (default) against the
//    reference's per-slice 3-sigma clipping and [0, 1] scaling (method.md 6.1 step 7, slices along the
//    file's third axis as the reference slices its arrays). Per case: how much the mean intensity of the
//    labelled structure varies from slice to slice, in units of the case's foreground-background contrast
//    (std over slices with >= MIN_SLICE_VOXELS labelled voxels of the slice's foreground mean, divided by
//    |mean foreground - mean background| of the whole case). A z-score leaves it as acquired.
// 2. Training input per batch of 2 on the bundled demo cases: the default sampler (plan patch, a third of
//    the patches centred on foreground, mild augmentation) against the reference protocol's slab sampler
//    (uniform slab of 16 slices, rotation +-90 degrees, zoom 0.5-1.5, 40 % shifts): milliseconds to draw
//    a batch, and how much foreground the patches hold.
import { readdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { RandomStream } from '../../core/base/random.ts';
import { DEFAULT_AUGMENTATION } from '../../core/datasets/pipeline/augment.ts';
import { toGrid, type Grid, type Shape3 } from '../../core/datasets/pipeline/grid.ts';
import { zScoreInPlace } from '../../core/datasets/pipeline/normalise.ts';
import type { Patch } from '../../core/datasets/pipeline/patch.ts';
import { computePlan } from '../../core/datasets/pipeline/plan.ts';
import { prepareCase } from '../../core/datasets/pipeline/preprocess.ts';
import type { PreparedCase } from '../../core/datasets/pipeline/prepared-case.ts';
import { normaliseSlices } from '../../core/datasets/pipeline/reference-promise12.ts';
import { REFERENCE_SLAB_AUGMENTATION, sampleSlab } from '../../core/datasets/pipeline/slab-patch.ts';
import { samplePatch } from '../../core/datasets/pipeline/sampling.ts';
import { toCanonical } from '../../core/io/orientation.ts';
import { readVolume } from '../../core/io/volume-files.ts';
import type { Volume } from '../../core/io/volume.ts';
import { DEMO_DATASET } from '../../core/service/search-demo.ts';
import { TRAIN_DEFAULTS } from '../../core/train/setup/defaults.ts';
import { protocolPatch } from '../../core/train/setup/protocol.ts';
import { median } from '../median.ts';

const MIN_SLICE_VOXELS = 10;
const LABELS = { 0: 'background', 1: 'Anterior', 2: 'Posterior' };

const { values } = parseArgs({
  options: {
    dataset: { type: 'string', default: '/work/shared/data/Task04_Hippocampus' },
    batches: { type: 'string', default: '200' },
  },
});

async function casePairs(folder: string): Promise<{ image: string; label: string }[]> {
  const names = (await readdir(join(folder, 'imagesTr'))).filter(
    (n) => n.endsWith('.nii.gz') && !n.startsWith('.'),
  );
  return names
    .sort()
    .map((n) => ({ image: join(folder, 'imagesTr', n), label: join(folder, 'labelsTr', n) }));
}

function quartiles(xs: number[]): string {
  const s = [...xs].sort((a, b) => a - b);
  const at = (q: number): number => s[Math.min(s.length - 1, Math.floor(q * s.length))] as number;
  return `${median(s).toFixed(3)} [${at(0.25).toFixed(3)}-${at(0.75).toFixed(3)}]`;
}

/** std over slices of the foreground mean, over |foreground mean - background mean| of the case. */
function sliceInconsistency(image: Grid, label: Uint8Array): number {
  const [n0, n1, n2] = image.shape;
  const sums = new Float64Array(n2);
  const counts = new Float64Array(n2);
  let fg = 0;
  let nFg = 0;
  let bg = 0;
  let nBg = 0;
  for (let p = 0; p < n0 * n1; p++) {
    for (let k = 0; k < n2; k++) {
      const v = image.data[p * n2 + k] as number;
      if ((label[p * n2 + k] as number) > 0) {
        sums[k] = (sums[k] as number) + v;
        counts[k] = (counts[k] as number) + 1;
        fg += v;
        nFg++;
      } else {
        bg += v;
        nBg++;
      }
    }
  }
  const means: number[] = [];
  for (let k = 0; k < n2; k++) {
    if ((counts[k] as number) >= MIN_SLICE_VOXELS) means.push((sums[k] as number) / (counts[k] as number));
  }
  const mean = means.reduce((a, b) => a + b, 0) / means.length;
  const std = Math.sqrt(means.reduce((a, b) => a + (b - mean) ** 2, 0) / means.length);
  return std / Math.abs(fg / nFg - bg / nBg);
}

/** Fraction of voxels the per-slice mean +- 3 std clipping changes. */
function clippedFraction(image: Grid): number {
  const [n0, n1, n2] = image.shape;
  const plane = n0 * n1;
  let clipped = 0;
  for (let k = 0; k < n2; k++) {
    let sum = 0;
    let sq = 0;
    for (let p = 0; p < plane; p++) sum += image.data[p * n2 + k] as number;
    const mean = sum / plane;
    for (let p = 0; p < plane; p++) sq += ((image.data[p * n2 + k] as number) - mean) ** 2;
    const std = Math.sqrt(sq / plane);
    for (let p = 0; p < plane; p++) {
      if (Math.abs((image.data[p * n2 + k] as number) - mean) > 3 * std) clipped++;
    }
  }
  return clipped / image.data.length;
}

async function normalisation(dataset: string): Promise<void> {
  const pairs = await casePairs(dataset);
  const zscore: number[] = [];
  const reference: number[] = [];
  const clipped: number[] = [];
  for (const pair of pairs) {
    const [image, label] = [await readVolume(pair.image), await readVolume(pair.label)];
    // Slices along the file's third axis, in the (y, x, z) order the reference uses.
    const grid = toGrid(image.data, image.shape, [1, 0, 2], new Float32Array(image.data.length));
    const labels = toGrid(label.data, label.shape, [1, 0, 2], new Uint8Array(label.data.length)).data;
    const z: Grid = { data: grid.data.slice(), shape: grid.shape };
    zScoreInPlace(z.data);
    zscore.push(sliceInconsistency(z, labels));
    reference.push(sliceInconsistency(normaliseSlices(grid, 3, 1e-100), labels));
    clipped.push(clippedFraction(grid));
  }
  const ratios = reference.map((r, i) => r / (zscore[i] as number));
  process.stdout.write(
    `\n## Slice-to-slice variation of the structure's intensity (${pairs.length} cases of ${dataset})\n\n` +
      `Per case: std over slices (>= ${MIN_SLICE_VOXELS} labelled voxels) of the slice's mean foreground intensity / ` +
      `|mean foreground - mean background|; median [25th-75th percentile] over cases.\n\n` +
      `| normalisation | variation | reference / z-score (per case) |\n| --- | --- | --- |\n` +
      `| per-case z-score (default) | ${quartiles(zscore)} | |\n` +
      `| per-slice 3-sigma clip + [0, 1] (reference) | ${quartiles(reference)} | ${quartiles(ratios)} |\n\n` +
      `Voxels changed by the per-slice clipping: ${quartiles(clipped.map((c) => c * 100))} % per case; ` +
      `cases where the reference's variation is larger: ${ratios.filter((r) => r > 1).length} of ${ratios.length}.\n`,
  );
}

function canonical(volume: Volume): { data: Volume['data']; shape: Shape3; spacing: Shape3 } {
  const c = toCanonical(volume).volume;
  return { data: c.data, shape: [...c.shape], spacing: [...c.spacing] };
}

function foreground(patch: Patch, classes: number): number {
  if (patch.target) {
    let mass = 0;
    for (let n = 0; n < patch.target.length / classes; n++) mass += 1 - (patch.target[n * classes] as number);
    return mass / (patch.target.length / classes);
  }
  const label = patch.label as Uint8Array;
  let on = 0;
  for (let n = 0; n < label.length; n++) if ((label[n] as number) > 0) on++;
  return on / label.length;
}

async function sampling(batches: number): Promise<void> {
  const pairs = await casePairs(DEMO_DATASET);
  const loaded = await Promise.all(
    pairs.map(async (p) => ({
      ...p,
      image: canonical(await readVolume(p.image)),
      label: canonical(await readVolume(p.label)),
    })),
  );
  const plan = computePlan(
    loaded.map((c) => ({ shape: c.image.shape, spacing: c.image.spacing })),
    { dataset: 'Task04_Hippocampus_demo', labels: LABELS },
  );
  const cases: PreparedCase[] = loaded.map((c, i) =>
    prepareCase(`case${i}`, c.image, c.label, plan, `label${i}`),
  );
  const classes = plan.labels.length;
  // The two protocols draw alternately, so a shared machine's load falls on both alike.
  const protocols = (['emonas', 'reference'] as const).map((protocol) => {
    const patch = protocolPatch(protocol, plan.patch);
    const rng = RandomStream.fromSeed(0, 'data');
    const draw = (c: PreparedCase): Patch =>
      protocol === 'reference'
        ? sampleSlab(c, classes, rng, patch, REFERENCE_SLAB_AUGMENTATION)
        : samplePatch(c, rng, {
            patch,
            foregroundProbability: TRAIN_DEFAULTS.foregroundProbability,
            augmentation: DEFAULT_AUGMENTATION,
          });
    return { protocol, patch, draw, times: [] as number[], fractions: [] as number[] };
  });
  for (let b = 0; b < batches; b++) {
    const picked = [cases[(2 * b) % cases.length], cases[(2 * b + 1) % cases.length]] as PreparedCase[];
    for (const p of protocols) {
      const t0 = performance.now();
      const drawn = picked.map(p.draw);
      p.times.push(performance.now() - t0);
      for (const patch of drawn) p.fractions.push(foreground(patch, classes));
    }
  }
  const rows = protocols.map(({ protocol, patch, times, fractions }) => {
    const withForeground = fractions.filter((f) => f > 0).length / fractions.length;
    const meanFraction = fractions.reduce((a, b) => a + b, 0) / fractions.length;
    return `| ${protocol} | ${patch.join(' x ')} | ${median(times).toFixed(2)} | ${(withForeground * 100).toFixed(1)} | ${(meanFraction * 100).toFixed(2)} |`;
  });
  process.stdout.write(
    `\n## Training input per batch of 2 (${cases.length} demo cases, plan patch ${plan.patch.join(' x ')}, ${batches} batches each, seed 0)\n\n` +
      `| protocol | patch | ms per batch (median) | patches with foreground (%) | foreground voxels (mean %) |\n| --- | --- | ---: | ---: | ---: |\n` +
      `${rows.join('\n')}\n`,
  );
}

await normalisation(resolve(values.dataset));
await sampling(Number(values.batches));
