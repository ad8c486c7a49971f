// Runs in: the engine. A run's model measured on the test cases its search set aside (training.json's split):
// predicted in a worker process (review-predictions.ts), scored with the dataset's own report
// (core/metrics/evaluation), both cached in the model folder under test-evaluation/, keyed to the weights.
// Nothing else reads the test cases: the search and the final training only ever see train and val. One
// test case with its prediction, for the review's viewer, and the cached evaluation alone, for the report.
import { existsSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { RunModel, TestEvaluation } from '../api/finish.ts';
import type { PostprocessingStatus, ReviewCase, ReviewProblem, ScoreName } from '../api/review.ts';
import { EmonasError } from '../base/errors.ts';
import type { TrainingProtocol } from '../base/training-protocol.ts';
import type { CaseEntry, DatasetManifest } from '../datasets/case-table.ts';
import { readDatasetLayout } from '../datasets/detect.ts';
import { toIntegerLabels } from '../datasets/labels.ts';
import { loadCase } from '../datasets/load-case.ts';
import { readJson, writeJsonAtomic } from '../io/files.ts';
import type { FileScope } from '../io/file-scope.ts';
import { readVolume } from '../io/volume-files.ts';
import { evaluatePredictions } from '../metrics/evaluation/evaluate-folder.ts';
import type { EvaluationReport } from '../metrics/evaluation/report.ts';
import { readModelCard } from '../train/model-card.ts';
import { cardForProtocol } from '../train/predict/prediction-protocol.ts';
import { readTrainingSetup } from '../train/setup/training-file.ts';
import { postprocessingStatus } from './postprocessing-status.ts';
import { modelStamp } from './review-candidate.ts';
import { predictInWorker } from './review-predictions.ts';
import type { PredictionLauncher } from './review-worker-serve.ts';
import { toReviewedCases } from './review.ts';
import { runModelDir } from './run-model.ts';
import { volumeData } from './volume-data.ts';

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
  /** Starts the prediction worker: the host's launcher; absent, it is forked. */
  launchPrediction?: PredictionLauncher;
}

/** The run's test cases, as its dataset folder holds them; refused when the search set none aside. */
async function testCases(runDir: string): Promise<{ manifest: DatasetManifest; cases: CaseEntry[] }> {
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
  return { manifest, cases };
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
  protocol?: TrainingProtocol,
): Promise<TestEvaluation> {
  const modelDir = runModelDir(runDir, model);
  const { manifest, cases } = await testCases(runDir);
  const own = await readModelCard(modelDir);
  // Predicted as the model was trained unless another protocol is asked for (emonas evaluate-test
  // --protocol); predictions of another protocol are other predictions, so they are cached apart.
  const card = cardForProtocol(own, protocol);
  const other = card.protocol !== cardForProtocol(own).protocol;
  const folder = join(modelDir, TEST_FILES.folder);
  const predictions = join(folder, TEST_FILES.predictions);
  const stamp = await modelStamp(modelDir);
  const index = await readIndex(folder, other ? `${stamp} protocol ${card.protocol}` : stamp);
  const missing = cases.filter(
    (c) => !index.predicted.includes(c.id) || !existsSync(join(predictions, basename(c.image))),
  );
  const problems: ReviewProblem[] = [];
  let done = cases.length - missing.length;
  if (missing.length > 0) {
    await predictInWorker(
      {
        modelDir,
        ...(other && card.protocol && { protocol: card.protocol }),
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
      hooks.launchPrediction,
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
    index.report ?? (await evaluatePredictions({ pred: predictions, gt: manifest.root, allowLinks: true }));
  index.report = report;
  await writeJsonAtomic(join(folder, TEST_FILES.index), index);
  return testEvaluation(runId, model, modelDir, report, {
    predicted: missing.length - problems.length,
    postprocessing: postprocessingStatus(card, true),
    problems,
  });
}

function testEvaluation(
  runId: string,
  model: RunModel,
  modelDir: string,
  report: EvaluationReport,
  made: { predicted: number; postprocessing: PostprocessingStatus; problems: ReviewProblem[] },
): TestEvaluation {
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
    predicted: made.predicted,
    postprocessing: made.postprocessing,
    problems: [...made.problems, ...report.problems],
  };
}

/** The index of the model's test predictions when it was made with the model's current weights, else null. */
async function currentIndex(modelDir: string): Promise<TestIndex | null> {
  const index = (await readJson(join(modelDir, TEST_FILES.folder, TEST_FILES.index))) as
    TestIndex | undefined;
  if (index?.format !== 'emonas-test-1' || index.model !== (await modelStamp(modelDir))) return null;
  return index;
}

/**
 * The model's test evaluation as an earlier evaluateTest left it (nothing predicted or measured here), or null
 * when there is none for its current weights: what the run report shows without ever starting a prediction.
 */
export async function cachedTestEvaluation(
  runDir: string,
  runId: string,
  model: RunModel,
): Promise<TestEvaluation | null> {
  let modelDir: string;
  try {
    modelDir = runModelDir(runDir, model);
  } catch (err) {
    if (err instanceof EmonasError && err.code === 'not_found') return null;
    throw err;
  }
  const index = await currentIndex(modelDir);
  if (!index?.report) return null;
  return testEvaluation(runId, model, modelDir, index.report, {
    predicted: 0,
    postprocessing: postprocessingStatus(await readModelCard(modelDir), true),
    problems: [],
  });
}

/**
 * One evaluated test case as the viewer shows it: image, ground truth and the model's stored prediction (an
 * ACDC case without its cine: the cine player belongs to the validation review).
 */
export async function testCase(
  runDir: string,
  runId: string,
  model: RunModel,
  caseId: string,
): Promise<ReviewCase> {
  const modelDir = runModelDir(runDir, model);
  const { manifest, cases } = await testCases(runDir);
  const entry = cases.find((c) => c.id === caseId);
  if (!entry) {
    throw new EmonasError(
      'not_found',
      `Case ${caseId} is not one of the test cases of run ${runId}; pick one from its test evaluation.`,
    );
  }
  const file = join(modelDir, TEST_FILES.folder, TEST_FILES.predictions, basename(entry.image));
  const index = await currentIndex(modelDir);
  if (!index?.predicted.includes(caseId) || !existsSync(file)) {
    throw new EmonasError(
      'not_found',
      `Test case ${caseId} has no prediction by the current weights of ${modelDir}; evaluate the model on the test cases first (test.evaluate).`,
      { file },
    );
  }
  // As evaluateTest: inside the dataset folder, links followed (the split already applied that choice).
  const scope: FileScope = { root: manifest.root, allowLinks: true };
  const { image, label } = await loadCase(entry, scope);
  if (!label) {
    throw new EmonasError('not_found', `Test case ${caseId} has no label map to compare with.`, {
      file: entry.image,
    });
  }
  return {
    runId,
    candidateId: model,
    caseId,
    labels: manifest.labels,
    image: volumeData(image),
    label: volumeData(label),
    prediction: volumeData(toIntegerLabels(await readVolume(file), file)),
  };
}
