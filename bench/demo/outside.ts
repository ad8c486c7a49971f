// Runs in: a plain Node process (npm run bench:demo-outside -- --run <demo run folder>). The demo's
// acceptance: its final model applied to every Task04_Hippocampus case outside the bundled demo subset
// (cases it never trained on, validated on or chose its epoch with), through the same service functions
// as `emonas predict` and `emonas evaluate`. Prints the prediction time and the Dice per structure.
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { evaluatePredictions } from '../../core/metrics/evaluation/evaluate-folder.ts';
import { predict } from '../../core/service/predict.ts';
import { outsideDemoFolder } from './outside-folder.ts';

const { values } = parseArgs({
  options: {
    run: { type: 'string', default: 'emonas-demo' },
    dataset: { type: 'string', default: '/work/shared/data/Task04_Hippocampus' },
  },
});
const dataset = resolve(values.dataset);
const model = join(resolve(values.run), 'final');

const work = await mkdtemp(join(tmpdir(), 'emonas-demo-outside-'));
const { folder } = await outsideDemoFolder(dataset, work);

const t0 = Date.now();
const predictions = join(work, 'predictions');
const predicted = await predict({ model, input: join(folder, 'imagesTr'), out: predictions });
const seconds = (Date.now() - t0) / 1000;
// The outside folder links to the shared cases on purpose (outside-folder.ts), so links are allowed.
const report = await evaluatePredictions({ pred: predictions, gt: folder, allowLinks: true });
const dice = Object.entries(report.mean).map(([name, m]) => [name, m.dice] as const);
const mean = dice.reduce((a, [, d]) => a + d, 0) / dice.length;
process.stdout.write(
  `final model ${model}: ${predicted.files.length} cases outside the demo predicted in ${seconds.toFixed(0)} s\n` +
    `Dice ${dice.map(([n, d]) => `${n} ${d.toFixed(3)}`).join(', ')}; mean ${mean.toFixed(3)}\n` +
    `${predicted.postprocessing.summary}\n` +
    `predictions and evaluation.csv: ${predictions}\n`,
);
