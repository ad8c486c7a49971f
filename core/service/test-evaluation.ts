// Runs in: the engine. A run's model measured on the test cases its search set aside (training.json's split):
// predicted in a worker process (review-predictions.ts), scored with the dataset's own report
// (core/metrics/evaluation), both cached in the model folder under test-evaluation/, keyed to the weights.
// Nothing else reads the test cases: the search and the final training only ever see train and val.
import { existsSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { RunModel, TestEvaluation } from '../api/finish.ts';
import type { ReviewProblem, ScoreName } from '../api/review.ts';
import { EmonasError } from '../base/errors.ts';
import type { CaseEntry } from '../datasets/case-table.ts';
import { readDatasetLayout } from '../datasets/detect.ts';
import { readJson, writeJsonAtomic } from '../io/files.ts';
import { evaluatePredictions } from '../metrics/evaluation/evaluate-folder.ts';
import type { EvaluationReport } from '../metrics/evaluation/report.ts';
import { readModelCard } from '../train/model-card.ts';
import { readTrainingSetup } from '../train/setup/training-file.ts';
import { postprocessingStatus } from './postprocessing-status.ts';
import { modelStamp } from './review-candidate.ts';
import { predictInWorker } from './review-predictions.ts';
import { toReviewedCases } from './review.ts';
import { runModelDir } from './run-model.ts';

/** Inside a model folder: the test predictions (named like the images) and what was measured on them. */
export const TEST_FILES = {
  folder: 'test-evaluation',
  predictions: 'predictions',
  /** Which weights the folder's contents were computed with, and which cases were predicted. */
  index: 'index.json',
  workerLog: 'prediction-worker.log',
} as const;

interface TestIndex {
  format: 'emonas-test-1';
  model: string;
  /** Case ids with a prediction file. */
  predicted: string[];
  /** The report over exactly these cases, once measured. */
  report: EvaluationReport | null;
}

export interface TestHooks {
  onProgress?: (done: number, total: number, caseId: string) => void;
}

/** The run's test cases, as its dataset folder holds them; refused when the search set none aside. */
async function testCases(runDir: string): Promise<{ root: string; cases: CaseEntry[] }> {
  const setup = readTrainingSetup(runDir);
  const ids = setup.split.test;
  if (ids.length === 0) {
    throw new EmonasError(
      'bad_request',
      `The search in ${runDir} set no test cases aside (its test fraction was 0), so there is nothing to evaluate on; start a search with a test fraction above 0.`,
      { file: join(runDir, 'training.json') },
    );
  }
  const manifest = await readDatasetLayout(setup.datasetRoot);
  const byId = new Map(manifest.cases.map((c) => [c.id, c]));
  const cases = ids.map((id) => {
    const entry = byId.get(id);
    if (!entry?.label) {
      throw new EmonasError(
        'invalid_dataset',
        `The dataset folder ${setup.datasetRoot} lacks test case ${id} (or its label map); put the dataset back as it was when the run was searched.`,
        { file: setup.datasetRoot },
      );
    }
    return entry;
  });
  return { root: manifest.root, cases };
}

async function readIndex(folder: string, stamp: string): Promise<TestIndex> {
  const index = (await readJson(join(folder, TEST_FILES.index))) as TestIndex | undefined;
  if (index?.format === 'emonas-test-1' && index.model === stamp) return index;
  // Predictions of other weights (the model was trained again) must not be shown as this model's.
  await rm(folder, { recursive: true, force: true });
  await mkdir(join(folder, TEST_FILES.predictions), { recursive: true });
  return { format: 'emonas-test-1', model: stamp, predicted: [], report: null };
}

export async function evaluateTest(
  runDir: string,
  runId: string,
  model: RunModel,
  hooks: TestHooks = {},
): Promise<TestEvaluation> {
  const modelDir = runModelDir(runDir, model);
  const { root, cases } = await testCases(runDir);
  const card = await readModelCard(modelDir);
  const folder = join(modelDir, TEST_FILES.folder);
  const predictions = join(folder, TEST_FILES.predictions);
  const index = await readIndex(folder, await modelStamp(modelDir));
  const missing = cases.filter(
    (c) => !index.predicted.includes(c.id) || !existsSync(join(predictions, basename(c.image))),
  );
  const problems: ReviewProblem[] = [];
  let done = cases.length - missing.length;
  if (missing.length > 0) {
    await predictInWorker(
      {
        modelDir,
        images: missing.map((c) => ({
          caseId: c.id,
          input: c.image,
          output: join(predictions, basename(c.image)),
        })),
      },
      join(folder, TEST_FILES.workerLog),
      (report) => {
        if (report.type === 'predicted') index.predicted.push(report.caseId);
        else
          problems.push({
            id: report.caseId,
            file: report.error.file ?? modelDir,
            message: report.error.message,
          });
        hooks.onProgress?.(++done, cases.length, report.caseId);
      },
    );
    index.report = null;
  }
  if (index.predicted.length === 0) {
    throw new EmonasError(
      'internal',
      `No test case of run ${runId} could be predicted with ${modelDir}: ${problems[0]?.message ?? 'unknown reason'}`,
      { file: problems[0]?.file ?? modelDir },
    );
  }
  // Links are followed: the search's split already applied the user's choice about them to these cases.
  const report =
    index.report ?? (await evaluatePredictions({ pred: predictions, gt: root, allowLinks: true }));
  index.report = report;
  await writeJsonAtomic(join(folder, TEST_FILES.index), index);
  const mean: Record<string, Record<ScoreName, number>> = {};
  for (const [name, row] of Object.entries(report.mean)) mean[name] = row;
  return {
    runId,
    model,
    modelDir,
    datasetKind: report.datasetKind,
    structures: report.labels,
    cases: toReviewedCases(report),
    mean,
    report: (report.msd ?? report.acdc ?? report.promise12 ?? null) as Record<string, unknown> | null,
    predicted: missing.length - problems.length,
    postprocessing: postprocessingStatus(card, true),
    problems: [...problems, ...report.problems],
  };
}
