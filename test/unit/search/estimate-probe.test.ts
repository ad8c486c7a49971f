// The search wizard's estimate (core/service/search-estimate.ts) probes with the training set-up the search's
// candidates get: under the reference protocol its slabs and batch, seen in the probe's job and in a real
// probe trained in a worker when the engine is asked with search.start's protocol; it counts the validation
// slabs core/train cuts; and its disk follows the search's parameter bound.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { loadPreparedCases } from '../../../core/datasets/pipeline/cache.ts';
import { REFERENCE_SLAB_AUGMENTATION } from '../../../core/datasets/pipeline/slab-patch.ts';
import { validationSlabs } from '../../../core/datasets/pipeline/slabs.ts';
import { createEngine } from '../../../core/service/index.ts';
import { probeJob, searchSetupFor, validationWork } from '../../../core/service/search-estimate.ts';
import { loadCanonicalCase } from '../../../core/train/case-loader.ts';
import { REFERENCE_SLICES } from '../../../core/train/setup/protocol.ts';
import { value } from '../../fixtures/api-value.ts';
import { tempDirs } from '../../fixtures/temp-dir.ts';
import { writeSyntheticMsd } from '../train/synthetic.ts';

const temp = tempDirs('estimate-probe');
let folder = '';
let cacheDir = '';

beforeAll(async () => {
  folder = temp.make();
  cacheDir = temp.make();
  // 32-voxel sides: the plan's patch holds the 7-cell probe network, and a 16-slice slab halves it.
  await writeSyntheticMsd(folder, 6, [32, 32, 32]);
});
afterAll(() => temp.cleanup());

describe("the estimate's probe", () => {
  it("trains with the search's protocol: the reference's slabs and batch, or this project's patches", async () => {
    const problem = { batchSize: 3 };
    const emonas = await searchSetupFor({ folder, cacheDir, problem });
    const reference = await searchSetupFor({ folder, cacheDir, problem, config: { protocol: 'reference' } });
    const ours = probeJob(emonas.setup, temp.make()).settings;
    const theirs = probeJob(reference.setup, temp.make()).settings;

    expect(ours.protocol).toBe('emonas');
    expect(ours.patch).toEqual([32, 32, 32]);
    expect(ours.foregroundProbability).toBeGreaterThan(0);
    expect(ours.slabAugmentation).toBeUndefined();

    expect(theirs.protocol).toBe('reference');
    expect(theirs.patch).toEqual([32, 32, REFERENCE_SLICES]);
    expect(theirs.foregroundProbability).toBe(0);
    expect(theirs.slabAugmentation).toEqual(REFERENCE_SLAB_AUGMENTATION);
    // The batch is the search's under either protocol, and the probe trains three steps of it.
    for (const settings of [ours, theirs]) {
      expect(settings.batchSize).toBe(3);
      expect(settings.stepsPerEpoch).toBe(3);
      expect(settings.epochs).toBe(1);
    }
  });

  it('counts the validation slabs the reference validation cuts from each case', async () => {
    // The demo's hippocampus volumes differ in size, so each case's own grid decides its slabs.
    const demo = join(import.meta.dirname, '../../../resources/demo/Task04_Hippocampus_demo');
    const { setup } = await searchSetupFor({ folder: demo, cacheDir, config: { protocol: 'reference' } });
    expect(setup.val.length).toBeGreaterThan(1);
    const cases = await loadPreparedCases(setup.val, setup.plan, setup.cacheFolder, loadCanonicalCase);
    const cut = validationSlabs(cases, setup.settings.patch).length;
    const work = validationWork(setup);
    expect(work).toEqual({ protocol: 'reference', slabs: cut, batchSize: setup.settings.batchSize });
    // Not every case is cut alike: the median volume would not have done.
    const perCase = cases.map((c) => validationSlabs([c], setup.settings.patch).length);
    expect(new Set(perCase).size).toBeGreaterThan(1);
    const emonas = await searchSetupFor({ folder: demo, cacheDir });
    expect(validationWork(emonas.setup)).toEqual({ protocol: 'emonas', cases: emonas.setup.val.length });
  });

  it('refuses training settings search.start would refuse, naming them', async () => {
    await expect(searchSetupFor({ folder, cacheDir, problem: { batch: 2 } })).rejects.toThrow(
      /has no setting batch/,
    );
    await expect(searchSetupFor({ folder, cacheDir, config: { protocol: 'nope' } })).rejects.toThrow(
      /protocol/,
    );
  });

  it('measures a reference-protocol search on its slabs and prices disk within its bound', async () => {
    const maxParams = 300_000;
    const config = { preset: 'quick', population: 3, generations: 2, learningGenerations: 1 };
    const problem = { epochs: 2, stepsPerEpoch: 4, batchSize: 2, maxParams, cacheDir };
    const { setup } = await searchSetupFor({ folder, config: { ...config, protocol: 'reference' }, problem });
    const cached = setup.train.length + setup.val.length;
    expect(setup.val.length).toBeGreaterThan(0);
    // Asked through the engine as the wizard asks it: search.start's request, its protocol beside the config.
    const engine = createEngine({ dataDir: temp.make() });
    value(await engine.call('dataset.import', { folder, name: 'Synthetic' }));
    const estimate = value(
      await engine.call('search.estimate', { dataset: 'Synthetic', config, problem, protocol: 'reference' }),
    );
    await engine.close();
    expect(estimate.protocol).toBe('reference');
    expect(estimate.patch).toEqual([32, 32, REFERENCE_SLICES]);
    expect(estimate.batchSize).toBe(2);
    expect(estimate.secondsPerStep).toBeGreaterThan(0);
    expect(estimate.candidates).toBe(6);
    expect(estimate.paramsPerCandidate).toBeGreaterThan(0);
    expect(estimate.paramsPerCandidate).toBeLessThanOrEqual(maxParams);
    expect(estimate.notes.join('\n')).toMatch(/Priced for the reference protocol: .*32x32x16 slabs/);
    // Each validation volume of 32 slices is two slabs of 16.
    expect(estimate.notes.join('\n')).toContain(`validating ${2 * setup.val.length} slabs in batches of 2`);
    // The cache of 32^3 volumes (float32 image, uint8 labels) and, within the bound, six candidates'
    // float32 weights and files and one checkpoint in training.
    const cache = cached * 32 ** 3 * 5;
    expect(estimate.diskBytes).toBeGreaterThan(cache + 6 * 64 * 1024);
    expect(estimate.diskBytes).toBeLessThanOrEqual(cache + 6 * (maxParams * 4 + 64 * 1024) + maxParams * 12);
  }, 180_000);
});
