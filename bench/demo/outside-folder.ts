// Runs in: a plain Node process (a benchmark). The Task04_Hippocampus cases outside the bundled demo subset
// (cases a demo-trained model never trained on, validated on or chose its epoch with), as a Decathlon folder
// of links, so evaluation reads them as the dataset itself. Shared by the benchmarks that measure a model on
// them (bench/demo/outside.ts, bench/postprocess/run.ts, bench/method-deviations/connectivity.ts,
// bench/search-real) so all measure the same cases.
import { mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { evaluatePredictions } from '../../core/metrics/evaluation/evaluate-folder.ts';
import type { EvaluationReport } from '../../core/metrics/evaluation/report.ts';
import { DEMO_DATASET } from '../../core/service/search-demo.ts';
import { readModelCard, type ModelCard } from '../../core/train/model-card.ts';

interface TrainingEntry {
  image: string;
  label: string;
}

/**
 * Writes the folder `work`/Task04_Hippocampus_outside anew and returns it with the number of cases it holds;
 * `limit` keeps only the first cases (a quick check of a benchmark, not a result).
 */
export async function outsideDemoFolder(
  dataset: string,
  work: string,
  { limit = null }: { limit?: number | null } = {},
): Promise<{ folder: string; cases: number }> {
  const demoImages = new Set(await readdir(join(DEMO_DATASET, 'imagesTr')));
  const manifest = JSON.parse(await readFile(join(dataset, 'dataset.json'), 'utf8')) as {
    training: TrainingEntry[];
    [key: string]: unknown;
  };
  const outside = manifest.training
    .filter((e) => !demoImages.has(e.image.replace(/^\.\/imagesTr\//, '')))
    .slice(0, limit ?? undefined);
  const folder = join(work, 'Task04_Hippocampus_outside');
  await rm(folder, { recursive: true, force: true });
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
  return { folder, cases: outside.length };
}

export interface ModelOnOutsideCases {
  /** The model folder, absolute. */
  model: string;
  card: ModelCard;
  /** A new temporary folder for the benchmark's predictions. */
  work: string;
  folder: string;
  cases: number;
  /** A folder of predictions evaluated against the outside cases as `emonas evaluate` does. */
  evaluate(pred: string): Promise<EvaluationReport>;
}

/**
 * The start of a benchmark that measures a model folder on the cases outside the demo: `--model` (else the
 * `usage` line and exit 2) and `--dataset` (the shared Task04_Hippocampus) from the command line, the
 * model's card, and the outside folder in a new temporary work folder named `<workPrefix>…`, announced on
 * stdout.
 */
export async function modelOnOutsideCases(usage: string, workPrefix: string): Promise<ModelOnOutsideCases> {
  const { values } = parseArgs({
    options: {
      model: { type: 'string' },
      dataset: { type: 'string', default: '/work/shared/data/Task04_Hippocampus' },
    },
  });
  if (!values.model) {
    process.stderr.write(`usage: ${usage}\n`);
    process.exit(2);
  }
  const model = resolve(values.model);
  const card = await readModelCard(model);
  const work = await mkdtemp(join(tmpdir(), workPrefix));
  const { folder, cases } = await outsideDemoFolder(resolve(values.dataset), work);
  process.stdout.write(`model ${model}: ${cases} cases outside the demo, work folder ${work}\n`);
  return {
    model,
    card,
    work,
    folder,
    cases,
    // The outside folder links to the shared cases on purpose, so links are allowed.
    evaluate: (pred) => evaluatePredictions({ pred, gt: folder, allowLinks: true }),
  };
}
