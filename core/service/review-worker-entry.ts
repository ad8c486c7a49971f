// Runs in: a prediction worker process forked by core/service/review-predictions.ts (headless engine).
// Serves one prediction job (review-worker-serve.ts) over Node's IPC channel; it ends when the engine goes.
import { processPort } from '../train/process-port.ts';
import { servePredictions, type PredictionJob, type PredictionReport } from './review-worker-serve.ts';

servePredictions(processPort<PredictionJob, PredictionReport>(), (code) => process.exit(code));
