// Runs in: a prediction worker process forked by core/service/review-predictions.ts. Loads one trained
// candidate and predicts the images it is sent, each written with its source's format and geometry and
// post-processed with the candidate's stored decision (as emonas predict does by default), so the engine
// never blocks on inference. Messages: in, one PredictionJob; out, one PredictionReport per image, then 'done'.
import { toErrorData, type ErrorData } from '../base/errors.ts';
import { watchParent } from '../base/parent-watch.ts';
import type { TrainingProtocol } from '../base/training-protocol.ts';
import { loadModel } from '../nn/save-load.ts';
import { selectBackend } from '../train/backend.ts';
import { readModelCard } from '../train/model-card.ts';
import { predictFile } from '../train/predict/predict-file.ts';
import { cardForProtocol } from '../train/predict/prediction-protocol.ts';

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

function send(message: PredictionReport): Promise<void> {
  return new Promise((resolve) => {
    if (!process.connected) return resolve();
    process.send?.(message, undefined, {}, () => resolve());
  });
}

async function serve(job: PredictionJob): Promise<void> {
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

process.once('message', (job: PredictionJob) => {
  serve(job).then(
    () => process.exit(0),
    async (err: unknown) => {
      await send({ type: 'error', error: toErrorData(err) });
      process.exit(1);
    },
  );
});
watchParent(() => process.exit(0));
