// Runs in: a plain Node process (npx tsx bench/method-deviations/connectivity.ts --model <model folder>).
// The connectivity of the largest-component post-processing: the reference keeps each structure's largest
// face-connected (6-) component (SimpleITK's default, method.md 6.3), this project's decision uses full
// (26-) connectivity as nnU-Net does. Every Task04_Hippocampus case outside the bundled demo subset (the
// cases of bench:postprocess) is predicted once without post-processing through the service `emonas
// predict` uses; each label map is then post-processed both ways, always, for every foreground label, and
// the three folders are evaluated as `emonas evaluate` does.
import { mkdir, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Connectivity } from '../../core/metrics/components.ts';
import type { EvaluationReport } from '../../core/metrics/evaluation/report.ts';
import { keepLargestComponentPerLabel } from '../../core/metrics/postprocessing.ts';
import { readVolume, writeVolume } from '../../core/io/volume-files.ts';
import { predict } from '../../core/service/predict.ts';
import { modelOnOutsideCases } from '../demo/outside-folder.ts';

const { model, card, work, folder, evaluate } = await modelOnOutsideCases(
  'npx tsx bench/method-deviations/connectivity.ts --model <model folder> [--dataset <Task04>]',
  'emonas-connectivity-',
);
const foreground = card.plan.labels.map((l) => l.value).filter((v) => v !== 0);

const raw = join(work, 'none');
await predict({ model, input: join(folder, 'imagesTr'), out: raw, postprocess: false });

async function keepLargest(connectivity: Connectivity): Promise<string> {
  const out = join(work, `c${connectivity}`);
  await mkdir(out, { recursive: true });
  for (const name of await readdir(raw)) {
    if (!name.endsWith('.nii.gz')) continue;
    const volume = await readVolume(join(raw, name));
    const kept = keepLargestComponentPerLabel(volume.data, volume.shape, foreground, connectivity);
    await writeVolume(join(out, name), { ...volume, data: Uint8Array.from(kept), dataType: 'uint8' });
  }
  return out;
}

const reports: [string, EvaluationReport][] = [
  ['none', await evaluate(raw)],
  ['largest, 26-connected (this project)', await evaluate(await keepLargest(26))],
  ['largest, 6-connected (reference)', await evaluate(await keepLargest(6))],
];
const mm = (v: number | undefined): string =>
  v === undefined || !Number.isFinite(v) ? String(v) : v.toFixed(2);
const rows = reports.flatMap(([what, report]) =>
  Object.entries(report.summary).map(
    ([label, s]) =>
      `| ${what} | ${label} | ${mm(s.hd95.mean)} | ${mm(s.hd95.median)} | ${s.dice.mean.toFixed(3)} | ${report.perCase.length} |`,
  ),
);
process.stdout.write(
  `\n| post-processing | label | HD95 mean (mm) | HD95 median (mm) | Dice mean | cases |\n| --- | --- | ---: | ---: | ---: | ---: |\n` +
    `${rows.join('\n')}\n\nproblems: ${reports.map(([, r]) => r.problems.length).join(', ')}\n`,
);
