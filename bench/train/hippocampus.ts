// Runs in: a plain Node process (npm run bench:train). The training acceptance, end to end through the
// same service functions as `emonas train`, `emonas predict --split test` and `emonas evaluate`: trains
// the small genome on Task04_Hippocampus with the train command's defaults, predicts the held-out test
// cases (never trained on, never used to pick the epoch) and prints wall times and their Dice.
// Options: --dataset <folder> --out <dir> --backend <name> (sets EMONAS_BACKEND, e.g. cpu for the slow
// reference backend) and any of --epochs --steps --patch --max-minutes --seed.
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { evaluatePredictions } from '../../core/metrics/evaluation/evaluate-folder.ts';
import { predict } from '../../core/service/predict.ts';
import { trainCandidate, type TrainRequest } from '../../core/service/train.ts';

const { values } = parseArgs({
  options: {
    dataset: { type: 'string', default: '/work/shared/data/Task04_Hippocampus' },
    out: { type: 'string' },
    backend: { type: 'string' },
    genome: { type: 'string', default: 'small' },
    epochs: { type: 'string' },
    steps: { type: 'string' },
    patch: { type: 'string' },
    'max-minutes': { type: 'string' },
    seed: { type: 'string' },
  },
});
if (values.backend) process.env.EMONAS_BACKEND = values.backend;
const out = values.out ?? (await mkdtemp(join(tmpdir(), 'emonas-bench-train-')));
const request: TrainRequest = { dataset: values.dataset, genome: values.genome, out: join(out, 'model') };
if (values.epochs) request.epochs = Number(values.epochs);
if (values.steps) request.stepsPerEpoch = Number(values.steps);
if (values.seed) request.seed = Number(values.seed);
if (values['max-minutes']) request.maxMinutes = Number(values['max-minutes']);
if (values.patch) request.patch = values.patch.split(',').map(Number) as [number, number, number];

const t0 = Date.now();
let lastLine = 0;
const result = await trainCandidate(request, {
  onEvent(e) {
    if (e.type === 'started')
      console.log(`training: ${e.params} parameters, patch ${e.patch.join('x')}, backend ready`);
    if (e.type === 'epoch' && Date.now() - lastLine > 30_000) {
      lastLine = Date.now();
      const dice = Object.entries(e.record.valDice).map(([k, v]) => `${k} ${v.toFixed(3)}`);
      console.log(
        `  epoch ${e.record.epoch + 1}: loss ${e.record.trainLoss.toFixed(3)}, val Dice ${dice.join(', ')}`,
      );
    }
  },
});
const trainSeconds = (Date.now() - t0) / 1000;
if (result.status !== 'completed') {
  console.log(`training failed: ${result.reason?.message}`);
  process.exit(1);
}
const t1 = Date.now();
const predictions = join(out, 'test-predictions');
const predicted = await predict({
  model: result.modelDir,
  input: values.dataset,
  out: predictions,
  split: 'test',
});
const predictSeconds = (Date.now() - t1) / 1000;
const report = await evaluatePredictions({ pred: predictions, gt: values.dataset });
const dice = Object.fromEntries(Object.entries(report.mean).map(([name, m]) => [name, m.dice]));
const meanDice = Object.values(dice).reduce((a, b) => a + b, 0) / Object.values(dice).length;

console.log('');
console.log(
  `genome ${values.genome}, backend ${result.backend}, ${result.params} parameters, patch ${result.patch.join('x')}`,
);
console.log(
  `train: ${trainSeconds.toFixed(0)} s (${(trainSeconds / 60).toFixed(1)} min), ${result.epochsRun} epochs, best ${result.bestEpoch + 1}, stopped by ${result.stoppedBy}`,
);
console.log(`validation Dice at the best epoch: ${JSON.stringify(result.valDice)}`);
console.log(`predict: ${predicted.files.length} held-out test cases in ${predictSeconds.toFixed(1)} s`);
console.log(
  `test Dice: ${Object.entries(dice)
    .map(([k, v]) => `${k} ${v.toFixed(4)}`)
    .join(', ')}; mean ${meanDice.toFixed(4)}`,
);
console.log(`model folder: ${result.modelDir}`);
