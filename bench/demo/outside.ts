// Runs in: a plain Node process (npm run bench:demo-outside -- --run <demo run folder>). The demo's
// acceptance: its final model applied to every Task04_Hippocampus case outside the bundled demo subset
// (cases it never trained on, validated on or chose its epoch with), through the same service functions
// as `emonas predict` and `emonas evaluate`. Prints the prediction time and the Dice per structure.
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { outsideDemoFolder } from './outside-folder.ts';
import { testDice } from './test-dice.ts';

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
const scored = await testDice(model, folder, join(work, 'predictions'));
process.stdout.write(
  `final model ${model}: ${scored.cases} cases outside the demo predicted in ${scored.seconds.toFixed(0)} s\n` +
    `Dice ${Object.entries(scored.perLabel)
      .map(([n, d]) => `${n} ${d.toFixed(3)}`)
      .join(', ')}; mean ${scored.mean.toFixed(3)}\n` +
    `${scored.postprocessing}\n` +
    `predictions and evaluation.csv: ${scored.predictions}\n`,
);
