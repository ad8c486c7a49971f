// Runs in: the engine. A model of a run as the contract names it: 'final' (what finalize trained into
// <run>/final) or a candidate id (its folder under candidates/), checked to hold a trained network; and a
// model folder the command line names.
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { RunModel } from '../api/finish.ts';
import { EmonasError } from '../base/errors.ts';
import { readRunManifest, RUN_FILES } from '../runs/run-folder.ts';
import { MODEL_CARD_FILE } from '../train/model-card.ts';
import { FINAL_DIR } from '../train/setup/final.ts';

export function runModelDir(runDir: string, model: RunModel): string {
  readRunManifest(runDir);
  if (model === FINAL_DIR) {
    const dir = join(runDir, FINAL_DIR);
    if (!existsSync(join(dir, MODEL_CARD_FILE))) {
      throw new EmonasError(
        'not_found',
        `The run in ${runDir} has no final model yet; train it first (final.start, or emonas finalize ${runDir}).`,
        { file: dir },
      );
    }
    return dir;
  }
  const dir = join(runDir, RUN_FILES.candidatesDir, model);
  if (!existsSync(join(dir, MODEL_CARD_FILE))) {
    throw new EmonasError(
      'not_found',
      `The run in ${runDir} has no trained candidate '${model}' (no ${MODEL_CARD_FILE} in ${dir}); pick one from its front.`,
      { file: dir },
    );
  }
  return dir;
}

/** A folder holding a trained network; a run folder is pointed to its final model. */
export function requireModelFolder(folder: string): string {
  const dir = resolve(folder);
  if (existsSync(join(dir, MODEL_CARD_FILE))) return dir;
  if (existsSync(join(dir, RUN_FILES.manifest))) {
    throw new EmonasError(
      'bad_request',
      `${dir} is a search run, not a model: give its final model (${join(dir, FINAL_DIR)}) or a candidate's folder (${join(dir, RUN_FILES.candidatesDir, '<id>')}).`,
      { file: dir },
    );
  }
  throw new EmonasError(
    'not_found',
    `${dir} holds no trained model (${MODEL_CARD_FILE} is missing); give a folder emonas train or emonas finalize wrote.`,
    { file: dir },
  );
}
