// Runs in: a Slurm job step (`emonas worker`), or a test. Trains one candidate of a run in this process with
// the run's own set-up, read from its training.json (the settings and objective a local worker would use,
// the plan, the split and the cache), so a candidate scores the same whichever executor trained it. The
// candidate's folder gets what a local training leaves there; core/train checkpoints every epoch in it, and
// a requeued task resumes from that checkpoint (when it was made for this same job).
import type { Genome } from '../../searchspace/genome.ts';
import { selectBackend } from '../backend.ts';
import { loadCanonicalCase } from '../case-loader.ts';
import { runTraining } from '../trainer.ts';
import type { TrainingResult } from './launch.ts';
import { preparedJob } from './prepare.ts';
import { readTrainingFile } from './training-file.ts';

export interface InProcessCandidate {
  /** The run's training.json. */
  setupFile: string;
  genome: Genome;
  /** The candidate's own seed: its weights and patch sampling. */
  seed: number;
  outDir: string;
}

export interface InProcessHooks {
  signal: AbortSignal;
  /** After each epoch, once its checkpoint is on disk; `epoch` is 0-based. */
  onCheckpoint: (epoch: number) => void;
  log: (line: string) => void;
}

/** Trains the candidate here; the weights checkpoint stays until the caller has recorded the result. */
export async function trainCandidateInProcess(
  candidate: InProcessCandidate,
  hooks: InProcessHooks,
): Promise<TrainingResult> {
  const setup = readTrainingFile(candidate.setupFile);
  const job = preparedJob(setup, candidate.genome, candidate.seed, candidate.outDir);
  const only = process.env.EMONAS_BACKEND;
  const choice = await selectBackend(only ? { only } : {});
  hooks.log(`Training on backend ${choice.backend}.`);
  return runTraining(job, {
    load: loadCanonicalCase,
    backend: choice.backend,
    signal: hooks.signal,
    resume: true,
    keepCheckpoint: true,
    onCheckpoint: (epoch) => hooks.onCheckpoint(epoch),
    onEvent: (event) => {
      if (event.type === 'started') {
        if (event.resumedEpochs !== undefined) {
          hooks.log(
            `Resuming the training after epoch ${event.resumedEpochs} of ${event.epochs}, from its checkpoint.`,
          );
        }
        if (event.checkpointIgnored) hooks.log(`Not resuming: ${event.checkpointIgnored}`);
      }
      if (event.type === 'epoch') {
        hooks.log(`Epoch ${event.record.epoch + 1}: validation loss ${event.record.valLoss.toFixed(4)}.`);
      }
    },
  });
}
