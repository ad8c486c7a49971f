import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { resolveGenome } from '../../../core/train/setup/genome-arg.ts';
import { prepareTraining } from '../../../core/train/setup/train-one.ts';
import { tempDirs } from '../../fixtures/temp-dir.ts';
import { writeSyntheticMsd } from './synthetic.ts';

const temp = tempDirs('train-service');
let dataset = '';

beforeAll(async () => {
  dataset = temp.make();
  await writeSyntheticMsd(dataset, 6, [12, 12, 12]);
});
afterAll(() => temp.cleanup());

describe('genome argument', () => {
  it('accepts a built-in name, inline JSON and a JSON file, and explains anything else', async () => {
    const small = await resolveGenome('small');
    expect(small).toMatchObject({ filters: 8, cells: 5 });
    expect(await resolveGenome(JSON.stringify(small))).toEqual(small);
    const file = join(temp.make(), 'genome.json');
    await writeFile(file, JSON.stringify({ ...small, learningRate: 1e-3 }));
    expect((await resolveGenome(file)).learningRate).toBe(1e-3);
    await expect(resolveGenome('nope')).rejects.toThrow(
      /neither a built-in genome \(prostate, hippocampus, cardiac, small\)/,
    );
    await expect(resolveGenome('{"filters": 8')).rejects.toThrow(/inline genome is not valid JSON/);
    await expect(resolveGenome(JSON.stringify({ ...small, cells: 6 }))).rejects.toThrow(
      /cells 6 must be one of/,
    );
  });
});

describe('preparing a training', () => {
  it('plans, splits by patient and writes the split before any training', async () => {
    const out = join(temp.make(), 'model');
    const plans: string[] = [];
    const prepared = await prepareTraining(
      { dataset, genome: 'small', out, valFraction: 0.2, testFraction: 0.2, seed: 4, cacheDir: temp.make() },
      { onPlan: (plan) => plans.push(plan.dataset) },
    );
    expect(plans).toEqual(['Synthetic']);
    expect(prepared.plan.patch).toEqual([16, 16, 16]);
    expect(prepared.job.train.length + prepared.job.val.length + prepared.split.test.length).toBe(6);
    expect(prepared.job.settings.objectives.budget).toBe(prepared.job.settings.epochs);
    const split = JSON.parse(await readFile(join(out, 'split.json'), 'utf8'));
    expect(split).toMatchObject({ seed: 4, valFraction: 0.2, testFraction: 0.2, dataset });
    expect(split.val).toEqual(prepared.job.val.map((c) => c.id));
  });

  it('keeps the split of --split-seed while --seed changes the weights and sampling', async () => {
    const base = { dataset, genome: 'small', valFraction: 0.2, testFraction: 0.2, cacheDir: temp.make() };
    const prepare = (seeds: { seed: number; splitSeed?: number }) =>
      prepareTraining({ ...base, ...seeds, out: join(temp.make(), 'model') });
    const splitOf = (p: Awaited<ReturnType<typeof prepare>>) => [p.split.train, p.split.val, p.split.test];
    const first = await prepare({ seed: 4 });
    const other = await prepare({ seed: 5 });
    // Precondition: the two seeds split the patients differently, so keeping a split is visible.
    expect(splitOf(other)).not.toEqual(splitOf(first));
    const repeat = await prepare({ seed: 5, splitSeed: 4 });
    expect(splitOf(repeat)).toEqual(splitOf(first));
    expect(repeat.split.seed).toBe(4);
    expect(repeat.job.settings.seed).toBe(5);
    await expect(prepare({ seed: 5, splitSeed: -1 })).rejects.toThrow(/split seed must be a whole number/);
  });

  it('refuses a patch the genome cannot pool, and a network too big for this machine, before starting', async () => {
    const base = { dataset, out: join(temp.make(), 'x'), cacheDir: temp.make() };
    await expect(prepareTraining({ ...base, genome: 'small', patch: [10, 12, 12] })).rejects.toThrow(
      /multiple of 4/,
    );
    await expect(
      prepareTraining({ ...base, genome: 'prostate', patch: [512, 512, 512], batchSize: 64 }),
    ).rejects.toThrow(/more than the .* budget/);
    await expect(prepareTraining({ ...base, genome: 'small', epochs: 0 })).rejects.toThrow(
      /positive whole number/,
    );
  });
});
