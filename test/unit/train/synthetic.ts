// Test helpers: a tiny synthetic two-structure dataset (bright ball = class 1, dark box = class 2 on a
// noisy background) with placeholder files on disk, so the cache can stamp them, and a loader that makes
// the volumes instead of reading them.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { RandomStream } from '../../../core/base/random.ts';
import type { CaseEntry } from '../../../core/datasets/case-table.ts';
import { NO_AUGMENTATION } from '../../../core/datasets/pipeline/augment.ts';
import type { CanonicalInput } from '../../../core/datasets/pipeline/preprocess.ts';
import type { Shape3 } from '../../../core/datasets/pipeline/grid.ts';
import { computePlan } from '../../../core/datasets/pipeline/plan.ts';
import type { TrainJob, TrainSettings } from '../../../core/train/job.ts';
import { REFERENCE_OBJECTIVES } from '../../../core/train/objectives.ts';
import type { Genome } from '../../../core/searchspace/genome.ts';
import { writeNifti } from '../../../core/io/nifti-write.ts';
import type { Mat3, Vec3 } from '../../../core/io/volume.ts';
import { writeMsdDatasetJson } from '../../fixtures/msd-tree.ts';

export const SMALL_GENOME: Genome = {
  learningRate: 1e-3,
  filters: 8,
  cells: 5,
  inputs: [0, 1, 1],
  ops: ['conv3d_3x3x3', 'convP3d_3x3', 'convP3d_3x3', 'conv2d_5x5'],
};

export const LABELS = { 0: 'background', 1: 'Ball', 2: 'Box' };

export function syntheticCase(seed: number, shape: Shape3): { image: CanonicalInput; label: CanonicalInput } {
  const rng = RandomStream.fromSeed(seed, 'synthetic');
  const n = shape[0] * shape[1] * shape[2];
  const image = new Float32Array(n);
  const label = new Uint8Array(n);
  const c = [0, 1, 2].map((d) => 4 + rng.int((shape[d] as number) - 8));
  const b = [0, 1, 2].map((d) => 2 + rng.int((shape[d] as number) - 6));
  for (let k = 0; k < shape[2]; k++)
    for (let j = 0; j < shape[1]; j++)
      for (let i = 0; i < shape[0]; i++) {
        const v = i + shape[0] * (j + shape[1] * k);
        let value = 100 + 10 * rng.normal();
        const r2 = (i - c[0]!) ** 2 + (j - c[1]!) ** 2 + (k - c[2]!) ** 2;
        if (r2 <= 6) {
          label[v] = 1;
          value += 80;
        } else if (
          i >= b[0]! &&
          i < b[0]! + 3 &&
          j >= b[1]! &&
          j < b[1]! + 3 &&
          k >= b[2]! &&
          k < b[2]! + 3
        ) {
          label[v] = 2;
          value -= 80;
        }
        image[v] = value;
      }
  const spacing: Shape3 = [1, 1, 1];
  return { image: { data: image, shape, spacing }, label: { data: label, shape, spacing } };
}

/** Case entries whose files exist (placeholders), ids case_0..case_{count-1}. */
export async function syntheticEntries(dir: string, count: number): Promise<CaseEntry[]> {
  await mkdir(dir, { recursive: true });
  const entries: CaseEntry[] = [];
  for (let i = 0; i < count; i++) {
    const image = join(dir, `case_${i}.nii.gz`);
    const label = join(dir, `case_${i}_gt.nii.gz`);
    await writeFile(image, `image ${i}`);
    await writeFile(label, `label ${i}`);
    entries.push({
      id: `case_${i}`,
      patient: `p${i}`,
      subset: 'train',
      image,
      label,
      shape: [16, 16, 16],
      spacing: [1, 1, 1],
      ok: true,
      problems: [],
    });
  }
  return entries;
}

/**
 * A training job on `cases` synthetic cases under `root` (3 train, the rest validation), writing to
 * root/`name`; the cases' cache is shared by every job under `root`.
 */
export async function syntheticJob(
  root: string,
  name: string,
  cases: number,
  shape: Shape3,
  settings: TrainSettings,
): Promise<TrainJob> {
  const entries = await syntheticEntries(join(root, 'data'), cases);
  const plan = computePlan([{ shape, spacing: [1, 1, 1] }], { dataset: 'Synthetic', labels: LABELS });
  const outDir = join(root, name);
  await mkdir(outDir, { recursive: true });
  return {
    genome: SMALL_GENOME,
    plan: { ...plan, patch: shape },
    cacheFolder: join(root, 'cache'),
    train: entries.slice(0, 3),
    val: entries.slice(3),
    outDir,
    settings,
  };
}

/**
 * The quickest training that still ends by its budget: two epochs of two steps of two whole cases, with no
 * augmentation, early stopping or plateau.
 */
export function quickSettings(shape: Shape3, seed: number): TrainSettings {
  return {
    epochs: 2,
    stepsPerEpoch: 2,
    batchSize: 2,
    patch: shape,
    seed,
    foregroundProbability: 0.33,
    augmentation: NO_AUGMENTATION,
    earlyStopping: null,
    plateau: null,
    objectives: { ...REFERENCE_OBJECTIVES, budget: 2 },
    maxSeconds: null,
  };
}

export function syntheticLoader(shape: Shape3) {
  return async (entry: CaseEntry) => syntheticCase(Number(entry.id.split('_')[1]), shape);
}

/**
 * A Decathlon-style dataset folder of `count` synthetic cases (ids synth_000...), stored like the real
 * hippocampus files with a RAS affine, so reading them exercises the canonical reorientation too.
 */
export async function writeSyntheticMsd(root: string, count: number, shape: Shape3): Promise<string[]> {
  await mkdir(join(root, 'imagesTr'), { recursive: true });
  await mkdir(join(root, 'labelsTr'), { recursive: true });
  const ids: string[] = [];
  const direction: Mat3 = [-1, 0, 0, 0, -1, 0, 0, 0, 1];
  for (let n = 0; n < count; n++) {
    const id = `synth_${String(n).padStart(3, '0')}`;
    const { image, label } = syntheticCase(n, shape);
    const geometry = { shape, spacing: [1, 1, 1] as Vec3, origin: [10, 20, -5] as Vec3, direction };
    await writeNifti(join(root, 'imagesTr', `${id}.nii.gz`), {
      ...geometry,
      data: image.data,
      dataType: 'float32',
    });
    await writeNifti(join(root, 'labelsTr', `${id}.nii.gz`), {
      ...geometry,
      data: label.data,
      dataType: 'uint8',
    });
    ids.push(id);
  }
  await writeMsdDatasetJson(root, {
    name: 'Synthetic',
    description: 'Balls and boxes',
    tensorImageSize: '3D',
    modality: { '0': 'MRI' },
    labels: { '0': 'background', '1': 'Ball', '2': 'Box' },
    numTraining: count,
    numTest: 0,
    training: ids.map((id) => ({ image: `./imagesTr/${id}.nii.gz`, label: `./labelsTr/${id}.nii.gz` })),
    test: [],
  });
  return ids;
}
