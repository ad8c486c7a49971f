// Runs in: a test process. Fixtures for the review, export, report and viewer tests: synthetic datasets
// large enough to look at (an MSD task with an oblique grid, an ACDC tree with 10 mm slices and a beating
// cine), candidate folders holding a seeded, untrained network exactly as emonas train lays a model folder
// out, and a finished run of the formula problem to hang them in.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { RandomStream } from '../../../core/base/random.ts';
import { writeNifti } from '../../../core/io/nifti-write.ts';
import type { Mat3, Vec3, Volume } from '../../../core/io/volume.ts';
import { buildModel } from '../../../core/nn/build-model.ts';
import { saveModel } from '../../../core/nn/save-load.ts';
import { inspectDataset } from '../../../core/service/datasets.ts';
import { startSearch } from '../../../core/service/search.ts';
import { planDataset } from '../../../core/train/setup/prepare.ts';
import type { Genome } from '../../../core/searchspace/genome.ts';
import { selectBackend } from '../../../core/train/backend.ts';
import { writeModelCard } from '../../../core/train/model-card.ts';
import { encodeNifti4d } from '../../fixtures/acdc-tree.ts';

export interface Ball {
  value: number;
  /** Centre and radius in mm, in the voxel frame (voxel (i, j, k) is at (i, j, k) * spacing). */
  centre: Vec3;
  radius: number;
}

export interface GridSpec {
  shape: Vec3;
  spacing: Vec3;
  origin: Vec3;
  direction: Mat3;
}

/** Label map of balls painted in order (later ones over earlier ones), measured in mm, so at any spacing. */
export function ballLabels(grid: GridSpec, balls: Ball[]): Volume {
  const [nx, ny, nz] = grid.shape;
  const data = new Uint8Array(nx * ny * nz);
  for (const b of balls) {
    for (let k = 0; k < nz; k++)
      for (let j = 0; j < ny; j++)
        for (let i = 0; i < nx; i++) {
          const d = [i, j, k].map((v, a) => v * (grid.spacing[a] as number) - (b.centre[a] as number));
          if (Math.hypot(...d) <= b.radius) data[i + nx * (j + ny * k)] = b.value;
        }
  }
  return { ...grid, data, dataType: 'uint8' };
}

/** An int16 MRI-like image: noise, brighter where the label map has structures, a smooth gradient. */
export function imageFor(labels: Volume, seed: number): Volume {
  const random = RandomStream.fromSeed(seed, 'image');
  const [nx, ny] = labels.shape;
  const data = new Int16Array(labels.data.length);
  for (let n = 0; n < data.length; n++) {
    const i = n % nx;
    const j = Math.floor(n / nx) % ny;
    const tissue = (labels.data[n] as number) === 0 ? 300 : 500 + 150 * (labels.data[n] as number);
    data[n] = Math.round(tissue + 2 * i + j + 40 * random.normal());
  }
  return { ...labels, data, dataType: 'int16' };
}

const ROTATED_10_DEGREES: Mat3 = [
  Math.cos(Math.PI / 18),
  -Math.sin(Math.PI / 18),
  0,
  Math.sin(Math.PI / 18),
  Math.cos(Math.PI / 18),
  0,
  0,
  0,
  1,
];

export interface SyntheticMsd {
  root: string;
  ids: string[];
  grid: GridSpec;
}

/**
 * A Decathlon-style task (dataset.json, imagesTr, labelsTr) of `count` cases on an oblique, anisotropic grid
 * with an off-centre origin, so an export that loses any of the geometry is caught.
 */
export async function writeSyntheticMsd(
  root: string,
  options: { count?: number; shape?: Vec3; spacing?: Vec3 } = {},
): Promise<SyntheticMsd> {
  const count = options.count ?? 4;
  const grid: GridSpec = {
    shape: options.shape ?? [20, 24, 10],
    spacing: options.spacing ?? [1, 1.25, 2.5],
    origin: [-12.5, 30, 7.25],
    direction: ROTATED_10_DEGREES,
  };
  await mkdir(join(root, 'imagesTr'), { recursive: true });
  await mkdir(join(root, 'labelsTr'), { recursive: true });
  const ids: string[] = [];
  const extent = grid.shape.map((n, a) => n * (grid.spacing[a] as number));
  for (let n = 1; n <= count; n++) {
    const id = `synthetic_${String(n).padStart(3, '0')}`;
    const centre = extent.map((e) => e / 2) as Vec3;
    const labels = ballLabels(grid, [
      { value: 1, centre: [centre[0] - 3, centre[1], centre[2]], radius: 5 + (n % 3) },
      { value: 2, centre: [centre[0] + 4, centre[1] + 2, centre[2]], radius: 4 },
    ]);
    await writeNifti(join(root, 'imagesTr', `${id}.nii.gz`), imageFor(labels, n));
    await writeNifti(join(root, 'labelsTr', `${id}.nii.gz`), labels);
    ids.push(id);
  }
  const json = {
    name: 'Synthetic',
    description: 'Two balls',
    labels: { '0': 'background', '1': 'Anterior', '2': 'Posterior' },
    modality: { '0': 'MRI' },
    tensorImageSize: '3D',
    numTraining: count,
    numTest: 0,
    training: ids.map((id) => ({ image: `./imagesTr/${id}.nii.gz`, label: `./labelsTr/${id}.nii.gz` })),
    test: [],
  };
  await writeFile(join(root, 'dataset.json'), JSON.stringify(json, null, 4));
  return { root, ids, grid };
}

export const ACDC_GRID: GridSpec = {
  shape: [48, 48, 8],
  spacing: [1.5625, 1.5625, 10],
  origin: [-37.5, -37.5, -40],
  direction: [1, 0, 0, 0, 1, 0, 0, 0, 1],
};

/** The heart of one cine frame: LV cavity (3) in a myocardium (2), RV (1) beside; smallest at `es`. */
export function heartBalls(frame: number, ed: number, es: number, frames: number): Ball[] {
  const distance = (a: number, b: number) => Math.min(Math.abs(a - b), frames - Math.abs(a - b));
  const squeeze = distance(frame, ed) / Math.max(1, distance(es, ed));
  const lv = 18 - 6 * squeeze;
  return [
    { value: 1, centre: [22, 37.5, 40], radius: 14 - 3 * squeeze },
    { value: 2, centre: [42, 37.5, 40], radius: lv + 7 },
    { value: 3, centre: [42, 37.5, 40], radius: lv },
  ];
}

/**
 * An ACDC re-release tree (database/training/patientNNN) with Info.cfg, the 4D cine, and ED/ES frames with
 * their label maps, on a 48 x 48 x 8 grid of 1.5625 x 1.5625 x 10 mm: a ball is a circle in every view only
 * when the viewer keeps the physical aspect.
 */
export async function writeSyntheticAcdc(
  root: string,
  patients = 2,
): Promise<{ root: string; ids: string[] }> {
  const ids: string[] = [];
  for (let p = 1; p <= patients; p++) {
    const name = `patient${String(p).padStart(3, '0')}`;
    const dir = join(root, 'database', 'training', name);
    await mkdir(dir, { recursive: true });
    const frames = 10;
    const ed = 1;
    const es = 5 + (p % 2);
    await writeFile(
      join(dir, 'Info.cfg'),
      `ED: ${ed}\nES: ${es}\nGroup: NOR\nHeight: 180.0\nNbFrame: ${frames}\nWeight: 80.0\n`,
    );
    const volumes = Array.from({ length: frames }, (_, t) =>
      imageFor(ballLabels(ACDC_GRID, heartBalls(t + 1, ed, es, frames)), 100 * p + t),
    );
    const cine = join(dir, `${name}_4d.nii.gz`);
    await writeFile(cine, gzipSync(encodeNifti4d(volumes, cine)));
    for (const [phase, frame] of [
      ['ED', ed],
      ['ES', es],
    ] as const) {
      const stem = join(dir, `${name}_frame${String(frame).padStart(2, '0')}`);
      await writeNifti(`${stem}.nii.gz`, volumes[frame - 1] as Volume);
      await writeNifti(`${stem}_gt.nii.gz`, ballLabels(ACDC_GRID, heartBalls(frame, ed, es, frames)));
      ids.push(`${name}_${phase}`);
    }
  }
  return { root, ids };
}

/** A finished run of the formula problem (seconds), whose front gives the candidate ids to hang models on. */
export async function writeFormulaRun(
  runDir: string,
): Promise<{ front: { id: string; genome: Genome; params: number }[] }> {
  const summary = await startSearch({
    runDir,
    config: {
      preset: 'quick',
      seed: 3,
      population: 6,
      generations: 3,
      learningGenerations: 1,
      surrogate: { trees: 10 },
    },
  });
  return { front: summary.front };
}

/**
 * A candidate folder as emonas train writes one (model.json, weights.bin, emonas-model.json, split.json) for
 * a network with seeded, untrained weights: it exercises inference, caching, metrics and display, not
 * accuracy.
 */
export async function writeCandidateModel(
  dir: string,
  dataset: string,
  options: { genome: Genome; val: string[]; seed?: number },
): Promise<void> {
  await selectBackend();
  const manifest = await inspectDataset(dataset);
  const plan = planDataset(manifest);
  const classes = plan.head === 'softmax' ? plan.labels.length : plan.labels.length - 1;
  const model = buildModel(options.genome, {
    inputShape: [plan.patch[0], plan.patch[1], plan.patch[2], 1],
    classes,
    head: plan.head,
    seed: options.seed ?? 1,
  });
  await mkdir(dir, { recursive: true });
  await saveModel(model, dir);
  await writeModelCard(dir, {
    format: 'emonas-model-1',
    genome: options.genome,
    plan,
    params: model.countParams(),
    backend: 'test fixture',
    bestEpoch: 0,
    valDice: {},
    createdAt: new Date().toISOString(),
  });
  model.dispose();
  const val = new Set(options.val);
  const ids = manifest.cases.filter((c) => c.label !== undefined).map((c) => c.id);
  await writeFile(
    join(dir, 'split.json'),
    JSON.stringify(
      {
        dataset: manifest.root,
        train: ids.filter((id) => !val.has(id)),
        val: options.val,
        test: [],
        seed: 0,
        valFraction: 0.5,
        testFraction: 0,
      },
      null,
      2,
    ) + '\n',
  );
}
