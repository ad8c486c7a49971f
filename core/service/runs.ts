// Runs in: the engine. What the command line reads about runs, wired from core/runs and core/search (the app
// reads the same through the contract's run methods, search-jobs.ts): the run a folder is or the runs under
// it, a run's front with each network's validation Dice, and how many candidates a search plans for.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { readEarlyFailure } from '../runs/run-failure.ts';
import { RUN_FILES, readRunManifest } from '../runs/run-folder.ts';
import {
  earlyFailureSummary,
  listRunsAndEarlyFailures,
  readRunSummary,
  type RunSummary,
} from '../runs/run-summary.ts';
import { resolveSearchConfig } from '../search/config.ts';
import { plannedEvaluations } from '../search/plan.ts';

export { frontDetails, type FrontDetail, type RunSummary } from '../runs/run-summary.ts';

/**
 * The run `folder` holds itself, or else the runs under it, with those the app started that failed before
 * they began (their dataset could not be prepared), as the engine lists them.
 */
export function runsIn(folder: string): RunSummary[] {
  if (existsSync(join(folder, RUN_FILES.manifest))) return [readRunSummary(folder)];
  const early = readEarlyFailure(folder);
  return early ? [earlyFailureSummary(early)] : listRunsAndEarlyFailures(folder);
}

/** Candidates a search configuration, as the user gives it, plans for. */
export function plannedForConfig(config: unknown): number {
  return plannedEvaluations(resolveSearchConfig(config));
}

/** Candidates a run plans for, from its run.json. */
export function plannedForRun(runDir: string): number {
  return plannedEvaluations(readRunManifest(runDir).search);
}
