// Runs in: a plain Node process (npm run bench:demo-outside -- --run <demo run folder>). The demo's
// acceptance: its final model applied to every Task04_Hippocampus case outside the bundled demo subset
// (cases it never trained on, validated on or chose its epoch with), through the same service functions
// as `emonas predict` and `emonas evaluate`. Prints the prediction time and the Dice per structure.
import { mkdtemp, readdir, readFile, symlink, mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { evaluatePredictions } from '../../core/service/evaluate.ts';
import { predict } from '../../core/service/predict.ts';
import { DEMO_DATASET } from '../../core/service/search-demo.ts';

const { values } = parseArgs({
  options: {
    run: { type: 'string', default: 'emonas-demo' },
    dataset: { type: 'string', default: '/work/shared/data/Task04_Hippocampus' },
  },
});
const dataset = resolve(values.dataset);
const model = join(resolve(values.run), 'final');

interface TrainingEntry {
  image: string;
  label: string;
}

const demoImages = new Set(await readdir(join(DEMO_DATASET, 'imagesTr')));
const manifest = JSON.parse(await readFile(join(dataset, 'dataset.json'), 'utf8')) as {
  training: TrainingEntry[];
  [key: string]: unknown;
};
const outside = manifest.training.filter((e) => !demoImages.has(e.image.replace(/^\.\/imagesTr\//, '')));

// A Decathlon folder of links to the outside cases, so the ground truth side is read as the dataset itself.
const work = await mkdtemp(join(tmpdir(), 'emonas-demo-outside-'));
const folder = join(work, 'Task04_Hippocampus_outside');
await mkdir(join(folder, 'imagesTr'), { recursive: true });
await mkdir(join(folder, 'labelsTr'));
for (const e of outside) {
  await symlink(join(dataset, e.image), join(folder, e.image));
  await symlink(join(dataset, e.label), join(folder, e.label));
}
await writeFile(
  join(folder, 'dataset.json'),
  JSON.stringify({ ...manifest, numTraining: outside.length, training: outside, test: [] }, null, 2),
);

const t0 = Date.now();
const predictions = join(work, 'predictions');
const predicted = await predict({ model, input: join(folder, 'imagesTr'), out: predictions });
const seconds = (Date.now() - t0) / 1000;
const report = await evaluatePredictions({ pred: predictions, gt: folder });
const dice = Object.entries(report.mean).map(([name, m]) => [name, m.dice] as const);
const mean = dice.reduce((a, [, d]) => a + d, 0) / dice.length;
process.stdout.write(
  `final model ${model}: ${predicted.files.length} cases outside the demo predicted in ${seconds.toFixed(0)} s\n` +
    `Dice ${dice.map(([n, d]) => `${n} ${d.toFixed(3)}`).join(', ')}; mean ${mean.toFixed(3)}\n` +
    `predictions and evaluation.csv: ${predictions}\n`,
);
