// Runs in: a plain Node process (npm run bench:postprocess -- --model <model folder>). What the model
// folder's stored post-processing decision does on cases it never saw: every Task04_Hippocampus case outside
// the bundled demo subset predicted twice through the service `emonas predict` uses, with the decision
// applied (the default) and with --no-postprocess, and both evaluated as `emonas evaluate` does. Prints the
// decision as stored (validation Dice before / after per label) and, per label, the mean and median HD95
// and the mean Dice on those cases without and with post-processing, as a Markdown table.
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { outsideDemoFolder } from '../demo/outside-folder.ts';
import { evaluatePredictions } from '../../core/metrics/evaluation/evaluate-folder.ts';
import type { EvaluationReport } from '../../core/metrics/evaluation/report.ts';
import { predict } from '../../core/service/predict.ts';
import { readModelCard } from '../../core/train/model-card.ts';

const { values } = parseArgs({
  options: {
    model: { type: 'string' },
    dataset: { type: 'string', default: '/work/shared/data/Task04_Hippocampus' },
  },
});
if (!values.model) {
  process.stderr.write(
    'usage: npm run bench:postprocess -- --model <model folder> [--dataset <Task04_Hippocampus>]\n',
  );
  process.exit(2);
}
const model = resolve(values.model);
const card = await readModelCard(model);
const work = await mkdtemp(join(tmpdir(), 'emonas-postprocess-'));
const { folder, cases } = await outsideDemoFolder(resolve(values.dataset), work);
process.stdout.write(`model ${model}: ${cases} cases outside the demo, work folder ${work}\n`);

const decision = card.postprocessing;
const labelName = (value: number): string =>
  card.plan.labels.find((l) => l.value === value)?.name ?? `label ${value}`;
if (decision) {
  process.stdout.write(
    `stored decision (${decision.cases} validation cases, ${decision.connectivity}-connected, ${decision.basis}):\n` +
      decision.labels
        .map(
          (d) =>
            `  ${labelName(d.label)}: validation Dice ${d.meanDiceBefore.toFixed(4)} -> ${d.meanDiceAfter.toFixed(4)}, ` +
            `${d.apply ? 'keep the largest component' : 'leave as is'}\n`,
        )
        .join(''),
  );
}

async function run(postprocess: boolean): Promise<EvaluationReport> {
  const out = join(work, postprocess ? 'with' : 'without');
  const t0 = Date.now();
  const response = await predict({ model, input: join(folder, 'imagesTr'), out, postprocess });
  process.stdout.write(
    `${response.files.length} cases predicted in ${((Date.now() - t0) / 1000).toFixed(0)} s: ${response.postprocessing.summary}\n`,
  );
  // The outside folder links to the shared cases on purpose (outside-folder.ts), so links are allowed.
  return evaluatePredictions({ pred: out, gt: folder, allowLinks: true });
}

const without = await run(false);
const withPp = await run(true);
const mm = (v: number | undefined): string =>
  v === undefined || !Number.isFinite(v) ? String(v) : v.toFixed(2);
const rows = Object.keys(without.summary).map((name) => {
  const a = without.summary[name];
  const b = withPp.summary[name];
  const value = card.plan.labels.find((l) => l.name === name)?.value;
  const applied = decision?.labels.find((d) => d.label === value)?.apply === true;
  return (
    `| ${name} | ${applied ? 'yes' : 'no'} | ${mm(a?.hd95.mean)} | ${mm(b?.hd95.mean)} | ${mm(a?.hd95.median)} | ` +
    `${mm(b?.hd95.median)} | ${a?.dice.mean.toFixed(3)} | ${b?.dice.mean.toFixed(3)} |`
  );
});
process.stdout.write(
  `\n| label | keep-largest | HD95 mean before (mm) | after | HD95 median before (mm) | after | Dice before | after |\n` +
    `| --- | --- | --- | --- | --- | --- | --- | --- |\n` +
    rows.join('\n') +
    `\n\ncases evaluated: ${without.perCase.length} without, ${withPp.perCase.length} with post-processing; ` +
    `problems: ${without.problems.length + withPp.problems.length}\n`,
);
