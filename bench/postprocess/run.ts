// Runs in: a plain Node process (npm run bench:postprocess -- --model <model folder>). What the model
// folder's stored post-processing decision does on cases it never saw: every Task04_Hippocampus case outside
// the bundled demo subset predicted twice through the service `emonas predict` uses, with the decision
// applied (the default) and with --no-postprocess, and both evaluated as `emonas evaluate` does. Prints the
// decision as stored (validation Dice before / after per label) and, per label, the mean and median HD95
// and the mean Dice on those cases without and with post-processing, as a Markdown table.
import { join } from 'node:path';
import type { EvaluationReport } from '../../core/metrics/evaluation/report.ts';
import { predict } from '../../core/service/predict.ts';
import { modelOnOutsideCases } from '../demo/outside-folder.ts';

const { model, card, work, folder, evaluate } = await modelOnOutsideCases(
  'npm run bench:postprocess -- --model <model folder> [--dataset <Task04_Hippocampus>]',
  'emonas-postprocess-',
);

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
  return evaluate(out);
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
