// Runs in: the engine. `emonas train` for the emonas command and the desktop app: one candidate trained with
// the one training set-up of core/train/setup, or such a training resumed from its checkpoint.
export { describePlan } from '../datasets/pipeline/plan.ts';
export {
  hasCheckpoint,
  prepareTraining,
  resumeTraining,
  trainCandidate,
  type PreparedTraining,
  type ResumeTrainingRequest,
  type TrainOneHooks,
  type TrainRequest,
} from '../train/setup/train-one.ts';
export type { TrainResponse } from '../train/setup/launch.ts';
