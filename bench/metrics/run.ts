// Runs in: a plain Node process (`npm run bench:metrics`). Times core/metrics against the scipy reference
// (reference.py, /usr/bin/python3) on the 200 hippocampus label maps and their eroded, dilated, shifted and
// label-removed copies, at native and anisotropic spacing, in the same run, and prints the time ratio and
// the largest difference of every metric.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compareLabels } from '../../core/metrics/label-metrics.ts';
import {
  hippocampusFolder,
  largestDifferences,
  ourValues,
  readBundle,
  readReferenceResults,
  requirePythonReference,
  runReference,
  type Bundle,
  type ReferenceValues,
} from './bundle.ts';

const REPEATS = 2;
const TAU = 1;

function timeOurs(bundle: Bundle): number {
  let best = Infinity;
  for (let r = 0; r < REPEATS; r++) {
    const start = performance.now();
    for (const pair of bundle.pairs)
      compareLabels(pair.reference, pair.prediction, bundle.labels, { hd95: 'pooled', tau: TAU });
    best = Math.min(best, (performance.now() - start) / 1000);
  }
  return best;
}

function main(): void {
  requirePythonReference();
  const data = hippocampusFolder();
  const folder = mkdtempSync(join(tmpdir(), 'emonas-bench-metrics-'));
  try {
    process.stdout.write(`Preparing label maps and perturbed copies from ${data} with reference.py ...\n`);
    runReference(['prepare', data, folder]);
    const bundle = readBundle(folder);
    const cases = new Set(bundle.pairs.map((p) => p.case)).size;
    const comparisons = bundle.pairs.length * bundle.labels.length;
    process.stdout.write(
      `${cases} cases, ${bundle.pairs.length} pairs (4 perturbations x native and 0.7 x 1.3 x 4.0 mm spacing), ` +
        `${comparisons} structure comparisons; best of ${REPEATS} runs each.\n`,
    );
    const ours = timeOurs(bundle);
    runReference([
      'measure',
      folder,
      join(folder, 'reference.json'),
      '--repeats',
      String(REPEATS),
      '--tau',
      String(TAU),
    ]);
    const reference = readReferenceResults(join(folder, 'reference.json'));
    const diff = largestDifferences(bundle, reference);

    const rows = [
      ['', 'core/metrics (Node)', 'scipy reference', 'ratio ours/scipy'],
      ['total time, s', ours.toFixed(3), reference.seconds.toFixed(3), (ours / reference.seconds).toFixed(3)],
      [
        'per structure, ms',
        ((1000 * ours) / comparisons).toFixed(3),
        ((1000 * reference.seconds) / comparisons).toFixed(3),
        '',
      ],
    ];
    const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
    process.stdout.write(
      '\n' + rows.map((r) => r.map((cell, c) => cell.padStart(widths[c]!)).join('  ')).join('\n') + '\n',
    );
    process.stdout.write('\nLargest absolute difference over every pair and structure:\n');
    for (const [field, value] of Object.entries(diff)) {
      const unit = ['hd', 'hd95Pooled', 'hd95MaxDirected', 'assd'].includes(field) ? ' mm' : '';
      process.stdout.write(`  ${field.padEnd(18)} ${value.toExponential(2)}${unit}\n`);
    }
    const perturbations = [...new Set(bundle.pairs.map((p) => p.perturbation))];
    process.stdout.write('\nMean over cases at native spacing, ours | scipy:\n');
    for (const kind of perturbations) {
      for (const label of bundle.labels) {
        const picks = bundle.pairs
          .map((pair, n) => ({ pair, n }))
          .filter(({ pair }) => pair.perturbation === kind && pair.reference.spacing[2] !== 4);
        const ours = picks.map(({ pair }) => ourValues(pair, label, TAU));
        const theirs = picks.map(({ n }) => reference.results[n]![String(label)]!);
        const mean = (rows: ReferenceValues[], field: keyof ReferenceValues) =>
          rows.reduce((s, r) => s + r[field], 0) / rows.length;
        const both = (field: keyof ReferenceValues, digits: number) =>
          `${mean(ours, field).toFixed(digits)} | ${mean(theirs, field).toFixed(digits)}`;
        process.stdout.write(
          `  ${kind.padEnd(16)} label ${label}  Dice ${both('dice', 4)}   HD95 ${both('hd95Pooled', 3)} mm` +
            `   ASSD ${both('assd', 3)} mm   NSD ${both('nsd', 4)}\n`,
        );
      }
    }
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
}

main();
