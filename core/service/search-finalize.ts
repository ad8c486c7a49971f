// Runs in: the engine. `emonas finalize`: the chosen network of a search (by default the front's most
// accurate) trained again for longer with the run's own set-up into <run>/final, starting from its weights
// in the search unless asked to start fresh (core/train/setup/final.ts).
import { join } from 'node:path';
import { EmonasError } from '../base/errors.ts';
import { readRunManifest, RUN_FILES } from '../runs/run-folder.ts';
import { archiveFromJournal, front } from '../runs/run-summary.ts';
import {
  finalSettings,
  runProtocol,
  trainFinal,
  type FinalCandidate,
  type FinalizeHooks,
  type FinalizeSummary,
  type FinalSettings,
} from '../train/setup/final.ts';

export { REFERENCE_FINAL } from '../train/setup/protocol.ts';
export {
  FINAL_DIR,
  FINALIZE_DEFAULTS,
  hasFinalModel,
  readFinalSummary,
  type FinalizeHooks,
  type FinalizeSummary,
} from '../train/setup/final.ts';

export interface FinalizeRequest extends FinalSettings {
  runDir: string;
  /** A completed candidate of the run; default: the front's most accurate (lowest f1). */
  candidate?: string;
}

export async function finalize(
  request: FinalizeRequest,
  hooks: FinalizeHooks = {},
): Promise<FinalizeSummary> {
  const { runDir } = request;
  const manifest = readRunManifest(runDir);
  if (manifest.problem.kind !== 'dataset') {
    throw new EmonasError(
      'bad_request',
      `The run in ${runDir} searched the formula problem; only a search over a dataset has a network to finalize.`,
    );
  }
  const settings = finalSettings(request, runProtocol(runDir));
  return trainFinal(runDir, chooseCandidate(runDir, request.candidate), settings, hooks);
}

/** The candidate to finalize: the one asked for, which must have completed, or the front's most accurate. */
function chooseCandidate(runDir: string, id: string | undefined): FinalCandidate {
  if (id === undefined) {
    const best = front({ runDir })[0];
    if (!best) {
      throw new EmonasError(
        'not_found',
        `The run in ${runDir} has no completed candidate yet; resume the search first.`,
      );
    }
    const spec = archiveFromJournal(runDir).find((e) => e.spec.id === best.id)?.spec;
    return { id: best.id, genome: best.genome, seed: spec?.seed ?? 0, modelDir: modelDir(runDir, best.id) };
  }
  const entry = archiveFromJournal(runDir).find((e) => e.spec.id === id);
  if (!entry) {
    throw new EmonasError(
      'not_found',
      `The run in ${runDir} has no evaluated candidate ${id}; see emonas front ${runDir}.`,
    );
  }
  if (entry.failed) {
    throw new EmonasError(
      'bad_request',
      `Candidate ${id} failed during the search (${entry.outcome.status === 'failed' ? entry.outcome.reason : 'no result'}); choose a candidate that completed.`,
    );
  }
  return { id, genome: entry.spec.genome, seed: entry.spec.seed, modelDir: modelDir(runDir, id) };
}

/** Where the search kept the candidate's best weights. */
function modelDir(runDir: string, id: string): string {
  return join(runDir, RUN_FILES.candidatesDir, id);
}
