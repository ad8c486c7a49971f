// Test helpers: a run's training set-up on the tiny synthetic dataset (synthetic.ts), written as the run's
// training.json the way a search writes it, with the Slurm training evaluator that names it.
import { join } from 'node:path';
import type { TrainingProtocol } from '../../../core/base/training-protocol.ts';
import type { TrainingEvaluatorSpec } from '../../../core/executors/slurm/worker-files.ts';
import { prepareTrainingSetup, type TrainingSetup } from '../../../core/train/setup/prepare.ts';
import { trainingFilePath, writeTrainingSetup } from '../../../core/train/setup/training-file.ts';
import { writeSyntheticMsd } from './synthetic.ts';

export interface SyntheticSetupOptions {
  epochs: number;
  stepsPerEpoch: number;
  batchSize?: number;
  /** f1's alpha and beta; the reference's when left out. */
  objective?: { alpha: number; beta: number };
  /** The training protocol; 'emonas' when left out. */
  protocol?: TrainingProtocol;
}

/**
 * Eight 12^3 synthetic cases in <runDir>/dataset, split 4 / 2 / 2, trained on 12^3 patches; the set-up is
 * written to <runDir>/training.json.
 */
export async function writeSyntheticSetup(
  runDir: string,
  options: SyntheticSetupOptions,
): Promise<{ setup: TrainingSetup; evaluator: TrainingEvaluatorSpec }> {
  const dataset = join(runDir, 'dataset');
  await writeSyntheticMsd(dataset, 8, [12, 12, 12]);
  const setup = await prepareTrainingSetup({
    dataset,
    split: { valFraction: 0.25, testFraction: 0.25, seed: 0 },
    settings: {
      epochs: options.epochs,
      stepsPerEpoch: options.stepsPerEpoch,
      batchSize: options.batchSize ?? 1,
      patch: [12, 12, 12],
      maxMinutes: 0,
      ...(options.objective && { objective: options.objective }),
      ...(options.protocol && { protocol: options.protocol }),
    },
    cacheDir: join(runDir, 'cache'),
  });
  writeTrainingSetup(runDir, setup);
  return { setup, evaluator: { kind: 'training', setupFile: trainingFilePath(runDir) } };
}
