// Runs in: a plain Node process (a benchmark). A model folder scored on a Decathlon folder of held-out cases
// through the same service functions as `emonas predict` and `emonas evaluate`: the mean Dice per structure
// and over structures. Shared by bench/demo/outside.ts and bench/search-real/run.ts so both score alike.
import { join } from 'node:path';
import { evaluatePredictions } from '../../core/metrics/evaluation/evaluate-folder.ts';
import { predict } from '../../core/service/predict.ts';

export interface TestDice {
  /** Structure name -> mean Dice over the cases. */
  perLabel: Record<string, number>;
  /** The mean over structures. */
  mean: number;
  cases: number;
  seconds: number;
  /** The model's stored post-processing, as `emonas predict` applied it. */
  postprocessing: string;
  predictions: string;
}

/** Predicts every image of `folder`/imagesTr with `model` into `out` and scores them against its labels. */
export async function testDice(model: string, folder: string, out: string): Promise<TestDice> {
  const t0 = performance.now();
  const predicted = await predict({ model, input: join(folder, 'imagesTr'), out });
  const seconds = (performance.now() - t0) / 1000;
  // The held-out folders link to the shared cases on purpose (outside-folder.ts), so links are allowed.
  const report = await evaluatePredictions({ pred: out, gt: folder, allowLinks: true });
  const perLabel = Object.fromEntries(Object.entries(report.mean).map(([name, m]) => [name, m.dice]));
  const values = Object.values(perLabel);
  if (values.length === 0) throw new Error(`${out}: the evaluation scored no structure.`);
  return {
    perLabel,
    mean: values.reduce((a, d) => a + d, 0) / values.length,
    cases: report.perCase.length,
    seconds,
    postprocessing: predicted.postprocessing.summary,
    predictions: out,
  };
}
