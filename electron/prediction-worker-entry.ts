// Runs in: a prediction worker in an Electron utility process (built to dist/electron/prediction-worker.mjs
// by electron/build.ts): the review's, an export's, a test evaluation's and applied scans' predictions in the
// desktop app. Serves one job over Electron's parentPort (utility-port.ts), like
// core/service/review-worker-entry.ts does under child_process.fork.
import {
  servePredictions,
  type PredictionJob,
  type PredictionReport,
} from '../core/service/review-worker-serve.ts';
import { utilityPort } from './utility-port.ts';

servePredictions(utilityPort<PredictionJob, PredictionReport>('prediction-worker.mjs'), (code) =>
  process.exit(code),
);
