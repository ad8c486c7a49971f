// Runs in: the emonas command's process. `emonas dataset inspect <folder> [--json]`: what a dataset folder
// holds and what is wrong with it, case by case.
import type { Vec3 } from '../api/datasets.ts';
import { EmonasError } from '../base/errors.ts';
import { inspectDataset, type DatasetReport } from '../service/datasets.ts';
import { parse, printJson, type Command } from './command.ts';
import { ProgressBar } from './progress.ts';

const usage = `Usage: emonas dataset inspect <folder> [--json] [--allow-links]

Detects the dataset in <folder> (Medical Segmentation Decathlon task, ACDC, or PROMISE12), reads every
case's image and label map, and reports the label names, how many cases are usable and broken, the spread
of image shapes and spacings, and every problem with the file it is in. Every file the dataset refers to
must lie inside <folder>: one that lies outside (an absolute path, a "..", a MetaImage ElementDataFile
elsewhere, or a symbolic link leading out) is a problem of its case and is never opened.

Options:
  --json          print one JSON object (kind, labels, cases with id, ok, shape, spacing, problems; summary)
  --allow-links   follow symbolic links that lead out of <folder> (for images kept elsewhere on purpose)

Exit status: 0 when at least one case can be used for training, 1 otherwise.`;

export const datasetCommand: Command = {
  name: 'dataset',
  summary: 'inspect a dataset folder: kind, labels, usable and broken cases, problems per file',
  usage,
  async run(argv) {
    const { values, positionals } = parse('dataset', argv, {
      json: { type: 'boolean' },
      'allow-links': { type: 'boolean' },
    });
    const [action, folder, ...extra] = positionals;
    if (action !== 'inspect') {
      throw new EmonasError(
        'bad_request',
        action === undefined
          ? 'emonas dataset: say what to do, e.g. emonas dataset inspect <folder>'
          : `emonas dataset: unknown action '${action}'; the action is inspect (see emonas dataset --help)`,
      );
    }
    if (folder === undefined || extra.length > 0) {
      throw new EmonasError('bad_request', 'emonas dataset inspect: give exactly one dataset folder');
    }
    let bar: ProgressBar | undefined;
    const report = await inspectDataset(folder, {
      ...(values['allow-links'] === true && { allowLinks: true }),
      onProgress(done, total, caseId) {
        bar ??= new ProgressBar({ label: 'Reading cases', total });
        if (done < total) bar.update(done, caseId);
      },
    });
    bar?.finish();
    if (values.json) printJson(report);
    else process.stdout.write(formatReport(report));
    if (report.summary.usable > 0) return 0;
    process.stderr.write(
      `emonas: no case in ${report.root} can be used for training (${report.summary.broken} broken of ${report.summary.cases}); fix the problems listed and inspect again.\n`,
    );
    return 1;
  },
};

export function formatReport(report: DatasetReport): string {
  const { summary } = report;
  const lines = [
    `Dataset:  ${datasetTitle(report)} in ${report.root}`,
    `Labels:   ${Object.entries(report.labels)
      .map(([value, name]) => `${value} ${name}`)
      .join(', ')}`,
    `Cases:    ${summary.usable} usable for training, ${summary.test} test, ${summary.broken} broken (${summary.cases} in all)`,
  ];
  if (summary.shape) {
    lines.push(
      `Shape:    ${range(summary.shape.min, summary.shape.max)} voxels (median ${dims(summary.shape.median)})`,
    );
  }
  if (summary.spacing) {
    lines.push(
      `Spacing:  ${range(summary.spacing.min, summary.spacing.max)} mm (median ${dims(summary.spacing.median)})`,
    );
  }
  const problems = [
    ...report.problems.map((p) => ({ where: 'dataset', ...p })),
    ...report.cases.flatMap((c) => c.problems.map((p) => ({ where: c.id, ...p }))),
  ];
  if (problems.length === 0) lines.push('Problems: none');
  else {
    lines.push(`Problems: ${problems.length}`);
    for (const p of problems) lines.push(`  ${p.where}: ${p.message}`, `    file: ${p.file}`);
  }
  return lines.join('\n') + '\n';
}

/** "Hippocampus (Medical Segmentation Decathlon)", or just "ACDC" when the name is the kind's. */
function datasetTitle(report: DatasetReport): string {
  const kind = { msd: 'Medical Segmentation Decathlon', acdc: 'ACDC', promise12: 'PROMISE12' }[report.kind];
  return report.name === kind ? kind : `${report.name} (${kind})`;
}

function num(v: number): string {
  return String(Math.round(v * 1000) / 1000);
}

function dims(v: Vec3): string {
  return v.map(num).join(' x ');
}

/** Per axis "min..max", or the single value when every case agrees. */
function range(min: Vec3, max: Vec3): string {
  return min.map((lo, i) => (lo === max[i] ? num(lo) : `${num(lo)}..${num(max[i] ?? lo)}`)).join(' x ');
}
