// Runs in: a test process. The final training (`emonas finalize`) takes its set-up from the run's
// training.json, objective included, and leaves <run>/final as a model folder whose files name final/.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FINAL_DIR, readFinalSummary, trainFinal } from '../../../core/train/setup/final.ts';
import { tempDirs } from '../../fixtures/temp-dir.ts';
import { writeSyntheticSetup } from './setup-fixture.ts';
import { SMALL_GENOME } from './synthetic.ts';

const temp = tempDirs('train-final');
afterAll(() => temp.cleanup());

describe('the final training', () => {
  it("trains with the run's set-up into <run>/final, with the final training's own epochs", async () => {
    const runDir = temp.make();
    const objective = { alpha: 0.4, beta: 0.1 };
    const { setup } = await writeSyntheticSetup(runDir, { epochs: 5, stepsPerEpoch: 1, objective });
    // fresh: this run has no search candidate folder to start from (final-weights.test.ts covers that).
    const summary = await trainFinal(
      runDir,
      { id: 'g1-c2', genome: SMALL_GENOME, seed: 3, modelDir: join(runDir, 'candidates', 'g1-c2') },
      { epochs: 1, stepsPerEpoch: 1, maxMinutes: 0, fresh: true, protocol: 'emonas' },
    );
    expect(summary).toMatchObject({
      status: 'completed',
      candidate: 'g1-c2',
      epochsRun: 1,
      startedFrom: 'fresh',
    });
    const finalDir = join(runDir, FINAL_DIR);
    expect(summary.modelDir).toBe(finalDir);
    expect(existsSync(join(runDir, `${FINAL_DIR}.partial`))).toBe(false);
    for (const file of ['model.json', 'weights.bin', 'emonas-model.json', 'split.json', 'finalize.json']) {
      expect(readdirSync(finalDir), file).toContain(file);
    }
    const recorded = JSON.parse(readFileSync(join(finalDir, 'finalize.json'), 'utf8')) as {
      settings: { epochs: number; seed: number; objectives: { alpha: number; beta: number; budget: number } };
    };
    expect(recorded.settings).toMatchObject({ epochs: 1, seed: 3 });
    expect(recorded.settings.objectives).toMatchObject({ ...objective, budget: 1 });
    const split = JSON.parse(readFileSync(join(finalDir, 'split.json'), 'utf8')) as { val: string[] };
    expect(split.val).toEqual(setup.split.val);
    const result = JSON.parse(readFileSync(join(finalDir, 'result.json'), 'utf8')) as {
      modelDir: string;
      split: { file: string };
    };
    expect(result.modelDir).toBe(finalDir);
    expect(result.split.file).toBe(join(finalDir, 'split.json'));
    expect(readFinalSummary(runDir)).toEqual(summary);
  }, 120_000);
});
