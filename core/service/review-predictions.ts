// Runs in: the engine. A candidate's predictions of its validation cases, cached in its folder
// (predictions/, named like the images, in their format and geometry, with an index keyed to the weights)
// and computed when missing by a prediction worker (started by the host's launcher, else forked), so the
// engine never blocks on inference.
import { existsSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ReviewProblem } from '../api/review.ts';
import { EmonasError, type ErrorData } from '../base/errors.ts';
import { readJson, writeJsonAtomic } from '../io/files.ts';
import { forkWorker } from '../train/worker-host.ts';
import { validationCase, type OpenedCandidate } from './review-candidate.ts';
import type { PredictionJob, PredictionLauncher, PredictionReport } from './review-worker-serve.ts';

/** Where a candidate's review lives inside its folder (architecture.md "A run on disk"). */
export const REVIEW_FILES = {
  predictions: 'predictions',
  /** Inside predictions/: which case is in which file, and for which weights. */
  index: 'index.json',
  metrics: 'metrics.json',
  workerLog: 'prediction-worker.log',
} as const;

export interface ReviewHooks {
  onProgress?: (done: number, total: number, caseId: string) => void;
}

interface PredictionIndex {
  format: 'emonas-predictions-1';
  model: string;
  /** Case id -> file name inside predictions/. */
  cases: Record<string, string>;
}

/** One prediction job per candidate folder at a time, so two requests never predict the same case twice. */
const locks = new Map<string, Promise<unknown>>();

function withLock<T>(key: string, task: () => Promise<T>): Promise<T> {
  const previous = locks.get(key) ?? Promise.resolve();
  const next = previous.then(task, task);
  const settled = next.then(
    () => undefined,
    () => undefined,
  );
  locks.set(key, settled);
  void settled.then(() => {
    if (locks.get(key) === settled) locks.delete(key);
  });
  return next;
}

async function readIndex(folder: string, stamp: string): Promise<PredictionIndex> {
  const index = (await readJson(join(folder, REVIEW_FILES.index))) as PredictionIndex | undefined;
  if (index?.format === 'emonas-predictions-1' && index.model === stamp && typeof index.cases === 'object') {
    return index;
  }
  // Predictions of other weights (the candidate was trained again) must not be shown as this network's.
  await rm(folder, { recursive: true, force: true });
  await mkdir(folder, { recursive: true });
  return { format: 'emonas-predictions-1', model: stamp, cases: {} };
}

const WORKER = fileURLToPath(new URL('./review-worker-entry.ts', import.meta.url));
const STDERR_TAIL = 2000;

/** The prediction worker forked with child_process, where the host gives no launcher (headless). */
const forkPredictionWorker: PredictionLauncher = (logFile) =>
  forkWorker<PredictionJob, PredictionReport>(WORKER, logFile);

/**
 * Runs the prediction worker, started by `launch` (the host's launcher) or else forked; resolves when it
 * has answered for every image, rejects if it dies first.
 */
export function predictInWorker(
  job: PredictionJob,
  logFile: string,
  onReport: (report: Extract<PredictionReport, { caseId: string }>) => void,
  launch: PredictionLauncher = forkPredictionWorker,
): Promise<void> {
  const worker = launch(logFile);
  let stderr = '';
  worker.onStderr((text) => {
    stderr = (stderr + text).slice(-STDERR_TAIL);
  });
  return new Promise((resolve, reject) => {
    let ended = false;
    let failure: ErrorData | undefined;
    worker.onMessage((message) => {
      if (message.type === 'done') ended = true;
      else if (message.type === 'error') failure = message.error;
      else onReport(message);
    });
    worker.onExit((code, signal) => {
      if (ended) return resolve();
      if (failure) {
        return reject(new EmonasError(failure.code, failure.message, { file: failure.file ?? job.modelDir }));
      }
      const how = signal ? `was killed (${signal})` : `exited with code ${code}`;
      reject(
        new EmonasError(
          'worker_crashed',
          `The prediction worker for ${job.modelDir} ${how} before it finished; see ${logFile}.${stderr.trim() ? ` Its last words: ${stderr.trim().split('\n').slice(-3).join(' ')}` : ''}`,
          { file: logFile },
        ),
      );
    });
    worker.send(job);
  });
}

/**
 * The prediction files of the given validation cases, computing (in a worker) those the candidate's folder
 * does not hold yet for these weights. A case whose prediction failed is returned as a problem.
 */
export async function ensurePredictions(
  opened: OpenedCandidate,
  caseIds: string[],
  hooks: ReviewHooks = {},
): Promise<{ files: Map<string, string>; predicted: number; problems: ReviewProblem[] }> {
  return withLock(opened.dir, async () => {
    const folder = join(opened.dir, REVIEW_FILES.predictions);
    await mkdir(folder, { recursive: true });
    const index = await readIndex(folder, opened.stamp);
    const entries = caseIds.map((id) => validationCase(opened, id));
    const missing = entries.filter((e) => {
      const name = index.cases[e.id];
      return name === undefined || !existsSync(join(folder, name));
    });
    const problems: ReviewProblem[] = [];
    let done = caseIds.length - missing.length;
    if (missing.length > 0) {
      const job: PredictionJob = {
        modelDir: opened.dir,
        images: missing.map((e) => ({
          caseId: e.id,
          input: e.image,
          output: join(folder, basename(e.image)),
        })),
      };
      // One index write at a time, each with every case predicted so far; all of them settled before this
      // answers, so a failed write (a full disk) is this call's error, never an unhandled rejection.
      let written = Promise.resolve();
      const predicting = predictInWorker(
        job,
        join(opened.dir, REVIEW_FILES.workerLog),
        (report) => {
          const entry = entries.find((e) => e.id === report.caseId);
          if (!entry) return;
          if (report.type === 'predicted') {
            index.cases[entry.id] = basename(entry.image);
            written = written.then(() => writeJsonAtomic(join(folder, REVIEW_FILES.index), index));
          } else {
            problems.push({
              id: entry.id,
              file: report.error.file ?? entry.image,
              message: report.error.message,
            });
          }
          hooks.onProgress?.(++done, caseIds.length, entry.id);
        },
        opened.ref.launchPrediction,
      );
      try {
        await predicting;
      } finally {
        await written;
      }
    }
    const files = new Map<string, string>();
    for (const e of entries) {
      const name = index.cases[e.id];
      if (name !== undefined) files.set(e.id, join(folder, name));
    }
    return { files, predicted: missing.length - problems.length, problems };
  });
}
