// The `paper` preset with protocol 'reference' against method.md, value by value: the search's constants
// (4.1), a candidate's training (5.1), the final training (5.2), the augmentation (5.3) and the evaluation
// (6.3), each obtained through the functions a search, finalize and predict take them from.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { methods } from '../../../core/api/methods.ts';
import { EmonasError } from '../../../core/base/errors.ts';
import { slabStarts } from '../../../core/datasets/pipeline/slabs.ts';
import { computePlan } from '../../../core/datasets/pipeline/plan.ts';
import { resolveSearchConfig, type SameaConfig } from '../../../core/search/config.ts';
import { DICE_SMOOTH } from '../../../core/train/loss.ts';
import { AdjustableAdam } from '../../../core/train/optimizer.ts';
import { cardForProtocol } from '../../../core/train/predict/prediction-protocol.ts';
import type { ModelCard } from '../../../core/train/model-card.ts';
import { parseDatasetProblem, searchSetupRequest } from '../../../core/train/setup/dataset-problem.ts';
import { finalSettings } from '../../../core/train/setup/final.ts';
import { finalOverrides, protocolPatch } from '../../../core/train/setup/protocol.ts';
import { referenceSettings } from '../../../core/train/setup/settings.ts';
import { slabWindowStarts } from '../../../core/train/slab-inference.ts';
import { builtinGenome } from '../../../core/nn/builtin-genomes.ts';
import { createEngine } from '../../../core/service/index.ts';

/** The reference's preprocessed PROMISE12 volume (method.md 6.1 step 3). */
const VOLUME: [number, number, number] = [128, 128, 64];

beforeAll(async () => {
  await tf.setBackend('cpu');
});

function paperReference() {
  const config = resolveSearchConfig({ preset: 'paper', protocol: 'reference' }) as SameaConfig;
  const problem = parseDatasetProblem(
    { kind: 'dataset', dataset: '/data/PROMISE12' },
    config.objective.epochs,
  );
  const request = searchSetupRequest(problem, config.objective, config.protocol);
  // As prepareTrainingSetup does, on a plan whose patch covers the reference's 128 x 128 x 64 volume.
  const patch = protocolPatch(config.protocol, VOLUME);
  const settings = referenceSettings({ ...request.settings, patch, seed: 0 });
  return { config, problem, settings };
}

describe("the paper preset with protocol 'reference' matches method.md", () => {
  it('section 4.1, the search constants', () => {
    const { config, problem, settings } = paperReference();
    expect(config.protocol).toBe('reference');
    expect(config.population, 'method.md 4.1: population N = 10').toBe(10);
    expect(config.neighbourhood, 'method.md 4.1: neighbourhood T = 3').toBe(3);
    expect(config.generations, 'method.md 4.1: max_gen = 40').toBe(40);
    expect(config.learningGenerations, 'method.md 4.1: LGen = 10').toBe(10);
    expect(config.theta, 'method.md 4.1: PBI theta = 0.001').toBe(0.001);
    expect(config.objective.epochs, 'method.md 4.1: C = 120').toBe(120);
    expect(settings.objectives.budget, 'method.md 4.1: C = 120 in f1').toBe(120);
    expect(
      [config.objective.alpha, config.objective.beta],
      'method.md 4.1: alpha, beta = 0.25, 0.25',
    ).toEqual([0.25, 0.25]);
    expect(problem.batchSize, 'method.md 4.1: candidate batch size 2').toBe(2);
    expect(settings.batchSize, 'method.md 4.1: candidate batch size 2').toBe(2);
    expect(settings.patch, 'method.md 4.1: patch (128, 128, 16)').toEqual([128, 128, 16]);
  });

  it("section 5.1, a candidate's training", () => {
    const { problem, settings } = paperReference();
    const adam = new AdjustableAdam(3e-4).getConfig();
    expect(
      [adam.beta1, adam.beta2, adam.epsilon],
      'method.md 5.1: Adam beta1 0.9, beta2 0.999, eps 1e-8',
    ).toEqual([0.9, 0.999, 1e-8]);
    expect(DICE_SMOOTH, 'method.md 5.1 / 3.1: batch soft Dice smoothed by 0.5').toBe(0.5);
    expect([problem.stepsPerEpoch, settings.stepsPerEpoch], 'method.md 5.1: 20 steps').toEqual([20, 20]);
    expect(settings.epochs, 'method.md 5.1: at most 120 epochs').toBe(120);
    expect(
      settings.foregroundProbability,
      'method.md 5.1: one random patch per volume, no oversampling',
    ).toBe(0);
    expect(
      slabStarts(VOLUME, settings.patch),
      'method.md 5.1: 4 non-overlapping slabs per validation volume',
    ).toHaveLength(4);
    expect(settings.earlyStopping, 'method.md 5.1: early stopping min_delta 0.001, patience 20').toEqual({
      minDelta: 0.001,
      patience: 20,
    });
    expect(settings.plateau, 'method.md 5.1: ReduceLROnPlateau x0.5, patience 30, min lr 1e-7').toMatchObject(
      {
        factor: 0.5,
        patience: 30,
        minLearningRate: 1e-7,
      },
    );
  });

  it('section 5.2, the final training', () => {
    const { config, settings } = paperReference();
    const final = finalSettings({}, config.protocol);
    const overrides = finalOverrides(final.protocol);
    expect(final.epochs, 'method.md 5.2: 6000 epochs').toBe(6000);
    expect(final.stepsPerEpoch, 'method.md 5.2: 10 steps per epoch').toBe(10);
    expect(overrides.batchSize, 'method.md 5.2: batch 4').toBe(4);
    expect(overrides.plateau, 'method.md 5.2: constant learning rate (no ReduceLROnPlateau)').toBeNull();
    expect(overrides.earlyStopping, 'method.md 5.2: no early stopping').toBeNull();
    expect(settings.patch, 'method.md 5.2: the same patches').toEqual([128, 128, 16]);
  });

  it('section 5.3, the augmentation', () => {
    const { settings } = paperReference();
    const a = settings.slabAugmentation;
    expect(settings.patch, 'method.md 5.3: random crop to (128, 128, 16)').toEqual([128, 128, 16]);
    expect(a?.rotationDegrees, 'method.md 5.3: rotation U(-90, 90) degrees').toBe(90);
    expect(a?.shiftFraction, 'method.md 5.3: shift U(-0.4, 0.4) x 128 px').toBe(0.4);
    expect(a?.zoom, 'method.md 5.3: isotropic zoom U(0.5, 1.5)').toEqual([0.5, 1.5]);
    expect(a?.flipProbability, 'method.md 5.3: left-right flip p = 0.5').toBe(0.5);
    expect(settings.augmentation.intensity.probability, 'method.md 5.3: no intensity augmentation').toBe(0);
  });

  it('section 6.3, the evaluation', () => {
    const { settings } = paperReference();
    const starts = slabWindowStarts(VOLUME[2], settings.patch[2]);
    expect(starts, 'method.md 6.3: 64 windows per volume').toHaveLength(64);
    expect(starts[0], 'method.md 6.3: 15 zero slices padded only at the front').toBe(-15);
    expect(
      starts.every((s, i) => i === 0 || s - (starts[i - 1] as number) === 1),
      'method.md 6.3: stride 1 slice',
    ).toBe(true);
    expect(
      slabStarts([128, 128, 1], [128, 128, 1]),
      'method.md 6.3: in-plane stride 128 (one window)',
    ).toHaveLength(1);
    const plan = computePlan([{ shape: VOLUME, spacing: [1, 1, 1.5] }], {
      dataset: 'PROMISE12',
      labels: { 0: 'background', 1: 'prostate' },
    });
    const card: ModelCard = {
      format: 'emonas-model-1',
      protocol: 'reference',
      genome: builtinGenome('prostate'),
      plan: { ...plan, patch: settings.patch },
      params: 0,
      backend: 'cpu',
      bestEpoch: 0,
      valDice: {},
      createdAt: '',
    };
    const post = cardForProtocol(card).postprocessing;
    expect(cardForProtocol(card).plan.patch, 'method.md 6.3: patch 128 x 128 x 16').toEqual([128, 128, 16]);
    expect(post?.connectivity, 'method.md 6.3: face (6-) connectivity').toBe(6);
    expect(
      post?.labels.map((d) => d.apply),
      'method.md 6.3: the largest component, always',
    ).toEqual([true]);
  });
});

describe('the protocol as a setting', () => {
  it('defaults to emonas and refuses another value with a sentence naming it', () => {
    expect((resolveSearchConfig({ preset: 'paper' }) as SameaConfig).protocol).toBe('emonas');
    expect(() => resolveSearchConfig({ protocol: 'paper' })).toThrow(
      /protocol is "paper"; use one of emonas, reference/,
    );
    const input = methods['search.start'].input;
    expect(input.parse({ protocol: 'reference' }, '')).toEqual({ protocol: 'reference' });
    expect(() => input.parse({ protocol: 'keras' }, '')).toThrow(EmonasError);
    expect(() => input.parse({ protocol: 'keras' }, '')).toThrow(/protocol.*'emonas', 'reference'/);
    expect(() => methods['final.start'].input.parse({ runId: 'r', protocol: 1 }, '')).toThrow(/protocol/);
  });
});

it("search.start's protocol becomes the run's configuration, recorded in run.json", async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'emonas-protocol-'));
  const engine = createEngine({ dataDir, log: () => undefined });
  try {
    const finished = new Promise<void>((resolve) => engine.on('run.finished', () => resolve()));
    const started = await engine.call('search.start', {
      config: { preset: 'quick', population: 3, generations: 2, learningGenerations: 1, seed: 1 },
      problem: { kind: 'formula' },
      protocol: 'reference',
    });
    expect(started.ok ? '' : started.error.message).toBe('');
    if (!started.ok) return;
    await finished;
    const manifest = JSON.parse(readFileSync(join(started.value.runDir, 'run.json'), 'utf8')) as {
      search: { protocol: string };
    };
    expect(manifest.search.protocol).toBe('reference');
  } finally {
    await engine.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
});
