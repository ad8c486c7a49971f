// Runs in: the emonas command's process. `emonas evaluate --pred <folder> --gt <folder>`: challenge metrics
// of predicted label maps against ground truth, as a summary table, a per-case CSV and optionally JSON.
import { join } from 'node:path';
import { EmonasError } from '../base/errors.ts';
import type { DatasetKind } from '../api/datasets.ts';
import {
  CLINICAL_INDICES,
  evaluatePredictions,
  PROMISE12_REGIONS,
  saveEvaluationCsv,
  type ClinicalIndex,
  type EvaluationReport,
  type Hd95Definition,
  type Summary,
} from '../service/evaluate.ts';
import { parse, printJson, requireOption, type Command } from './command.ts';
import { ProgressBar } from './progress.ts';

const usage = `Usage: emonas evaluate --pred <folder> --gt <folder> [--dataset-kind msd|acdc|promise12]
                       [--json] [--csv <file>] [--tau <mm>] [--hd95 pooled|max-directed]
                       [--allow-links]

Compares every predicted label map in --pred with its ground truth on the ground truth's own grid: Dice,
Jaccard, sensitivity, precision, volumes, aRVD, Hausdorff distance, HD95, average symmetric surface
distance and normalised surface Dice, in mm, per structure and per case, with mean, std and median.

--gt is a folder of label maps (paired by file name; _gt and _segmentation suffixes are ignored) or a
dataset folder (Decathlon task, ACDC, PROMISE12), whose label files are paired with predictions named like
the images (hippocampus_001.nii.gz, patient001_frame01.nii.gz, Case00.mhd) or like the case ids.

Options:
  --dataset-kind K  label names and report of dataset K: msd (names from dataset.json; Dice and surface
                    Dice), acdc (RV, Myo, LV per ED/ES phase; EDV, ESV, EF, myocardial mass),
                    promise12 (whole gland, apex, base). Detected from a dataset folder.
  --json            print the whole report as one JSON object (perCase, mean, summary, definitions, ...)
  --csv <file>      where to write the per-case table (default: evaluation.csv in the --pred folder)
  --tau <mm>        surface Dice tolerance (default 1)
  --hd95 <def>      pooled: 95th percentile of both directions' distances together (default, medpy);
                    max-directed: larger of the two directed 95th percentiles (MONAI)
  --allow-links     follow symbolic links that lead out of the --gt folder (for label maps kept
                    elsewhere on purpose); without it such a file is named as a problem and not read

A structure missing from the prediction scores Dice 0 and distances equal to the image diagonal; absent
from both, Dice 1 and distance 0. No metric is ever NaN.

Exit status: 0 when every prediction was evaluated, 1 when some could not be (each is named on stderr).`;

const KINDS: DatasetKind[] = ['msd', 'acdc', 'promise12'];

function parseKind(value: string | undefined): DatasetKind | undefined {
  if (value === undefined) return undefined;
  if ((KINDS as string[]).includes(value)) return value as DatasetKind;
  throw new EmonasError(
    'bad_request',
    `emonas evaluate: --dataset-kind is one of ${KINDS.join(', ')}, not '${value}'`,
  );
}

function parseTau(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const tau = Number(value);
  if (value.trim() === '' || !Number.isFinite(tau) || tau < 0) {
    throw new EmonasError(
      'bad_request',
      `emonas evaluate: --tau is a distance in mm, 0 or more, not '${value}'`,
    );
  }
  return tau;
}

function parseHd95(value: string | undefined): Hd95Definition | undefined {
  if (value === undefined || value === 'pooled' || value === 'max-directed') return value;
  throw new EmonasError('bad_request', `emonas evaluate: --hd95 is pooled or max-directed, not '${value}'`);
}

export const evaluateCommand: Command = {
  name: 'evaluate',
  summary: 'score predicted label maps against ground truth: Dice, HD, HD95, ASSD, surface Dice in mm',
  usage,
  async run(argv) {
    const { values } = parse(
      'evaluate',
      argv,
      {
        pred: { type: 'string' },
        gt: { type: 'string' },
        'dataset-kind': { type: 'string' },
        json: { type: 'boolean' },
        csv: { type: 'string' },
        tau: { type: 'string' },
        hd95: { type: 'string' },
        'allow-links': { type: 'boolean' },
      },
      false,
    );
    const request = {
      pred: requireOption('evaluate', values.pred, '--pred'),
      gt: requireOption('evaluate', values.gt, '--gt'),
      datasetKind: parseKind(values['dataset-kind']),
      tau: parseTau(values.tau),
      hd95: parseHd95(values.hd95),
      allowLinks: values['allow-links'] === true,
    };
    let bar: ProgressBar | undefined;
    const report = await evaluatePredictions(request, {
      onProgress(done, total, caseId) {
        bar ??= new ProgressBar({ label: 'Evaluating', total });
        if (done < total) bar.update(done, caseId);
      },
    });
    bar?.finish();
    const csv = await saveEvaluationCsv(report, values.csv ?? join(report.pred, 'evaluation.csv'));
    if (values.json) printJson(report);
    else process.stdout.write(formatEvaluation(report) + `Per-case table: ${csv}\n`);
    for (const w of report.warnings) process.stderr.write(`emonas: warning: ${w.message}\n`);
    for (const p of report.problems) process.stderr.write(`emonas: ${p.message}\n`);
    if (report.problems.length === 0) return 0;
    process.stderr.write(
      `emonas: ${report.problems.length} prediction(s) could not be evaluated (listed above); the figures cover the other ${report.cases.length}.\n`,
    );
    return 1;
  },
};

function ratio(s: Summary): string {
  return `${s.mean.toFixed(3)} ± ${s.std.toFixed(3)}`;
}

function mm(s: Summary): string {
  return `${s.mean.toFixed(2)} ± ${s.std.toFixed(2)}`;
}

function table(header: string[], rows: string[][]): string[] {
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => (r[c] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!)))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)];
}

export function formatEvaluation(report: EvaluationReport): string {
  const { tau, hd95 } = report.options;
  const lines = [
    `Evaluated ${report.cases.length} case(s) of ${report.pred}`,
    `against ${report.gt} (${report.datasetKind}; HD95 ${hd95}; surface Dice at tau = ${tau} mm; mean ± std)`,
    '',
    ...table(
      ['structure', 'n', 'Dice', 'HD mm', 'HD95 mm', 'ASSD mm', 'NSD', 'aRVD %'],
      Object.entries(report.summary).map(([name, s]) => [
        name,
        String(s.dice.n),
        ratio(s.dice),
        mm(s.hd),
        mm(s.hd95),
        mm(s.assd),
        ratio(s.nsd),
        mm(s.arvd),
      ]),
    ),
  ];
  if (report.acdc) {
    const rows: string[][] = [];
    for (const phase of ['ED', 'ES'] as const) {
      for (const [name, s] of Object.entries(report.acdc.perPhase[phase])) {
        if (s.dice.n > 0)
          rows.push([`${name} ${phase}`, String(s.dice.n), ratio(s.dice), mm(s.hd), mm(s.hd95)]);
      }
    }
    lines.push(
      '',
      'ACDC per structure and phase:',
      ...table(['structure', 'n', 'Dice', 'HD mm', 'HD95 mm'], rows),
    );
    const agreement = report.acdc.clinical.agreement;
    lines.push(
      '',
      `Clinical indices (${agreement.lvEdv.n} patient(s) with ED and ES; error = predicted − true):`,
      ...table(
        ['index', 'unit', 'bias', 'std', 'limits of agreement', 'MAE', 'r'],
        (Object.keys(CLINICAL_INDICES) as ClinicalIndex[]).map((index) => {
          const a = agreement[index];
          return [
            index,
            a.unit,
            a.bias.toFixed(2),
            a.std.toFixed(2),
            `${a.limitsOfAgreement[0].toFixed(2)} .. ${a.limitsOfAgreement[1].toFixed(2)}`,
            a.meanAbsoluteError.toFixed(2),
            a.correlation === null ? '-' : a.correlation.toFixed(3),
          ];
        }),
      ),
    );
  }
  if (report.promise12) {
    const summary = report.promise12.summary;
    lines.push(
      '',
      'PROMISE12 regions:',
      ...table(
        ['region', 'Dice', 'HD95 mm', 'ABD mm', 'aRVD %'],
        PROMISE12_REGIONS.map((r) => [
          r,
          ratio(summary[r].dice),
          mm(summary[r].hd95),
          mm(summary[r].abd),
          mm(summary[r].arvd),
        ]),
      ),
    );
  }
  if (report.missingPredictions.length > 0) {
    lines.push(
      '',
      `${report.missingPredictions.length} ground-truth case(s) have no prediction and are not evaluated.`,
    );
  }
  return lines.join('\n') + '\n';
}
