// Runs in: a prediction worker, forked (review-worker-entry.ts) or in an Electron utility process
// (electron/prediction-worker-entry.ts); its message types also in the engine. Loads one trained model and
// predicts the images it is sent, each written with its source's format and geometry and post-processed
// with the model's stored decision (as emonas predict does by default), so the engine never blocks on
// inference. Messages: in, one PredictionJob; out, one PredictionReport per image, then 'done'.
import { toErrorData, type ErrorData } from '../base/errors.ts';
import type { TrainingProtocol } from '../base/training-protocol.ts';
import { loadModel } from '../nn/save-load.ts';
import { selectBackend } from '../train/backend.ts';
import { readModelCard } from '../train/model-card.ts';
import { predictFile } from '../train/predict/predict-file.ts';
import { cardForProtocol } from '../train/predict/prediction-protocol.ts';
import type { WorkerHandle, WorkerPort } from '../train/protocol.ts';

export interface PredictionJob {
  modelDir: string;
  /** Predict as this protocol does; default: the model's own (core/train/predict/prediction-protocol.ts). */
  protocol?: TrainingProtocol;
  images: { caseId: string; input: string; output: string }[];
}

export type PredictionReport =
  | { type: 'predicted'; caseId: string; seconds: number }
  | { type: 'failed'; caseId: string; error: ErrorData }
  | { type: 'done'; backend: string }
  | { type: 'error'; error: ErrorData };

/**
 * Starts a prediction worker writing its output to logFile: the host's launcher (Electron's utility
 * processes, electron/worker-launcher.ts), or review-predictions.ts's fork.
 */
export type PredictionLauncher = (logFile: string) => WorkerHandle<PredictionJob, PredictionReport>;

async function predict(
  job: PredictionJob,
  send: (message: PredictionReport) => Promise<void>,
): Promise<void> {
  const only = process.env.EMONAS_BACKEND;
  const { backend } = await selectBackend(only ? { only } : {});
  const card = cardForProtocol(await readModelCard(job.modelDir), job.protocol);
  const model = await loadModel(job.modelDir);
  try {
    for (const image of job.images) {
      const started = Date.now();
      try {
        await predictFile(model, card, image.input, image.output, card.postprocessing);
        await send({ type: 'predicted', caseId: image.caseId, seconds: (Date.now() - started) / 1000 });
      } catch (err) {
        await send({ type: 'failed', caseId: image.caseId, error: toErrorData(err) });
      }
    }
  } finally {
    model.dispose();
  }
  await send({ type: 'done', backend });
}

/** Serves the first job the port brings, then exits; exits at once when the engine goes. */
export function servePredictions(
  port: WorkerPort<PredictionJob, PredictionReport>,
  exit: (code: number) => void,
): void {
  // Each report waits until it has left the process, so exiting after the last cannot lose it.
  const send = (message: PredictionReport) =>
    new Promise<void>((resolve) => port.send(message, () => resolve()));
  let started = false;
  port.onMessage((job) => {
    if (started) return;
    started = true;
    predict(job, send).then(
      () => exit(0),
      async (err: unknown) => {
        await send({ type: 'error', error: toErrorData(err) });
        exit(1);
      },
    );
  });
  port.onDisconnect(() => exit(0));
}
