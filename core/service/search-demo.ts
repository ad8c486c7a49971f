// Runs in: the engine. The demo: a `quick` SaMEA search on the bundled hippocampus subset followed by
// the final training of the front's most accurate network, which starts from that network's weights in
// the search (as `emonas finalize` does by default), sized to end in about 20 minutes on two CPU cores.
// The search has a wall-clock budget (per-candidate time limits keep each candidate short; the budget
// stops the search at a clean point if the machine is slower, and the run folder records that it did:
// search-budget.ts), and the final training gets the rest.
// Running the demo again on the same folder continues it: the search resumes, an interrupted final
// training continues from its last epoch, a final model that exists is kept; a run cancelled in the app is
// refused, as `emonas resume` refuses it.
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { EmonasError } from '../base/errors.ts';
import { isCancelled, RUN_FILES } from '../runs/run-folder.ts';
import type { TrainingProtocol } from '../base/training-protocol.ts';
import { presetConfig, type Algorithm } from '../search/config.ts';
import { plannedEvaluations } from '../search/plan.ts';
import { readJournal } from '../runs/journal.ts';
import { frontDetails, type FrontDetail } from '../runs/run-summary.ts';
import { resume, startSearch, type SearchDeps, type SearchSummary } from './search.ts';
import { searchWithinBudget, type BudgetedSearch } from './search-budget.ts';
import {
  finalize,
  hasFinalModel,
  readFinalSummary,
  type FinalizeHooks,
  type FinalizeSummary,
} from './search-finalize.ts';

export const DEMO_DATASET = fileURLToPath(
  new URL('../../resources/demo/Task04_Hippocampus_demo', import.meta.url),
);

/**
 * Sized on this 2-core machine, shared: a candidate trains 6 epochs of 15 steps on the plan's 32x48x32
 * patch (enough that a network that learns fast shows it in f1: the `small` genome passes 0.7 validation
 * Dice within its first 50 steps) or stops at its 75-second limit, two at a time; a network too slow for
 * that fails at the hard limit. The search's budget caps it whatever the candidates cost, and the final
 * training of the front's most accurate network gets about as long.
 */
export const DEMO_DEFAULTS = {
  out: 'emonas-demo',
  workers: 2,
  searchMinutes: 9,
  finalizeMinutes: 9,
  candidateMinutes: 1.25,
  stepsPerEpoch: 15,
  /**
   * Networks above this cannot finish an epoch of 15 steps within the time limit on two cores; the search
   * repairs a child above it to fit rather than spending a candidate on it.
   */
  maxParams: 1_500_000,
  valFraction: 0.2,
  testFraction: 0.1,
  /** The search's seed: the quick preset's own, not one chosen for how its demo turned out. */
  seed: presetConfig('samea', 'quick').seed,
} as const;

/** Candidates the demo's search plans for (its progress bar's length). */
export const DEMO_PLANNED_EVALUATIONS = plannedEvaluations(presetConfig('samea', 'quick'));

export interface DemoRequest {
  /** Run folder (default ./emonas-demo); a folder holding a demo run is continued. */
  out?: string;
  workers?: number;
  searchMinutes?: number;
  finalizeMinutes?: number;
  candidateMinutes?: number;
  /** The search's seed for a new run (a continued run keeps its own). */
  seed?: number;
  /**
   * SaMEA unless a comparison asks for a baseline at the demo's settings (bench:search-real); the quick
   * preset either way.
   */
  algorithm?: Algorithm;
  /** How candidates and the final model train ('emonas' by default); a continued run keeps its own. */
  protocol?: TrainingProtocol;
}

export interface DemoHooks extends Pick<SearchDeps, 'onEvent' | 'onProgress'> {
  /** The search is over (finished, or stopped by its budget); the final training starts. */
  onSearchDone?: (summary: SearchSummary, stoppedByBudget: boolean) => void;
  onFinalize?: Pick<FinalizeHooks, 'onPreparing' | 'onEvent'>;
  signal?: AbortSignal;
}

export interface DemoSummary {
  runDir: string;
  /** stopped: the user stopped the demo; running it again continues. */
  status: 'finished' | 'stopped';
  search: SearchSummary | null;
  /**
   * The search's budget ended it before its last generation; the run is listed as stopped at its budget,
   * and `emonas resume` continues it.
   */
  searchStoppedByBudget: boolean;
  front: FrontDetail[];
  final: FinalizeSummary | null;
  seconds: number;
}

export async function runDemo(request: DemoRequest = {}, hooks: DemoHooks = {}): Promise<DemoSummary> {
  const started = performance.now();
  const runDir = resolve(request.out ?? DEMO_DEFAULTS.out);
  const searchMinutes = request.searchMinutes ?? DEMO_DEFAULTS.searchMinutes;
  const deps: SearchDeps = {
    ...(hooks.signal && { signal: hooks.signal }),
    ...(hooks.onEvent && { onEvent: hooks.onEvent }),
    ...(hooks.onProgress && { onProgress: hooks.onProgress }),
  };
  let budgeted: BudgetedSearch | null = null;
  if (!existsSync(join(runDir, RUN_FILES.manifest))) {
    budgeted = await searchWithinBudget(
      searchMinutes,
      (budgetDeps) =>
        startSearch(
          {
            runDir,
            config: {
              algorithm: request.algorithm ?? 'samea',
              preset: 'quick',
              seed: request.seed ?? DEMO_DEFAULTS.seed,
              ...(request.protocol && { protocol: request.protocol }),
            },
            problem: {
              kind: 'dataset',
              dataset: DEMO_DATASET,
              stepsPerEpoch: DEMO_DEFAULTS.stepsPerEpoch,
              maxMinutes: request.candidateMinutes ?? DEMO_DEFAULTS.candidateMinutes,
              maxParams: DEMO_DEFAULTS.maxParams,
              valFraction: DEMO_DEFAULTS.valFraction,
              testFraction: DEMO_DEFAULTS.testFraction,
            },
            workers: request.workers ?? DEMO_DEFAULTS.workers,
          },
          budgetDeps,
        ),
      deps,
    );
  } else if (isCancelled(runDir)) {
    throw new EmonasError(
      'conflict',
      `The demo run in ${runDir} was cancelled, so it is not continued; what it evaluated stays there (emonas front ${runDir}). Give emonas demo another --out for a new demo.`,
      { file: join(runDir, RUN_FILES.cancelled) },
    );
  } else if (!isFinished(runDir)) {
    budgeted = await searchWithinBudget(
      searchMinutes,
      (budgetDeps) => resume({ runDir, ...(request.workers && { workers: request.workers }) }, budgetDeps),
      deps,
    );
  }
  const search = budgeted?.search ?? null;
  const stoppedByBudget = budgeted?.stoppedByBudget ?? false;
  const stoppedByUser = hooks.signal?.aborted ?? false;
  if (search) hooks.onSearchDone?.(search, stoppedByBudget);
  let final = readFinalSummary(runDir);
  if (!stoppedByUser && !hasFinalModel(runDir)) {
    const finalizeMinutes = request.finalizeMinutes ?? DEMO_DEFAULTS.finalizeMinutes;
    try {
      final = await finalize(
        { runDir, maxMinutes: finalizeMinutes },
        { ...hooks.onFinalize, ...(hooks.signal && { signal: hooks.signal }) },
      );
    } catch (err) {
      if (!hooks.signal?.aborted) throw err;
    }
  }
  return {
    runDir,
    status: hooks.signal?.aborted ? 'stopped' : 'finished',
    search,
    searchStoppedByBudget: stoppedByBudget,
    front: frontDetails({ runDir }),
    final,
    seconds: (performance.now() - started) / 1000,
  };
}

function isFinished(runDir: string): boolean {
  return readJournal(join(runDir, RUN_FILES.journal)).records.some((r) => r.t === 'finished');
}
