// Runs in: the engine. What a run folder says about its search without replaying it: the archive as the
// journal records it, the Pareto front (with each trained candidate's validation Dice), and the summary
// that `emonas runs` and the app's run list show.
import { existsSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { FrontCandidate, RunRecord } from '../api/runs.ts';
import { readJsonSync } from '../io/files.ts';
import { Archive, frontOf } from '../search/archive.ts';
import { plannedEvaluations } from '../search/plan.ts';
import type { ArchiveEntry, CandidateSpec, EvaluationOutcome } from '../search/protocol.ts';
import { functionalKey, genomeKey } from '../searchspace/encoding.ts';
import { readBudgetStop } from './budget-stop.ts';
import { readJournal } from './journal.ts';
import { listEarlyFailures, readRunFailure, type EarlyFailure } from './run-failure.ts';
import { RUN_FILES, isCancelled, listRunFolders, readRunManifest } from './run-folder.ts';
import { lockHolder } from './run-lock.ts';

/** A candidate on the front: the API's type, declared once there for the engine and its clients. */
export type FrontRow = FrontCandidate;

export interface FrontDetail extends FrontRow {
  /** Validation Dice per label at the candidate's best epoch (from its result.json), when trained. */
  valDice: Record<string, number> | null;
  /** The candidate's folder, which `emonas predict --model` takes. */
  folder: string;
}

export interface RunSummary extends RunRecord {
  runDir: string;
  lastActivity: string | null;
  /** Candidates the configuration plans for (infill and duplicates can change it a little). */
  planned: number;
  /** Another process has the run open now. */
  running: boolean;
  /** `emonas finalize` has stored a final model in <run>/final. */
  finalized: boolean;
  /** Why the run's last drive ended in an error (<run>/failed.json), or null. */
  failure: string | null;
}

/**
 * The archive as the journal records it: the candidates of every fully answered evaluation request, in
 * the order the search added them. Needs no replay of the search.
 */
export function archiveFromJournal(runDir: string): ArchiveEntry[] {
  const manifest = readRunManifest(runDir);
  const { records } = readJournal(join(runDir, RUN_FILES.journal));
  const outcomes = new Map<string, EvaluationOutcome>();
  for (const r of records) if (r.t === 'result' && !outcomes.has(r.id)) outcomes.set(r.id, r.outcome);
  const archive = new Archive(
    manifest.normalisation,
    manifest.search.duplicateKey === 'functional' ? functionalKey : genomeKey,
  );
  for (const r of records) {
    if (r.t !== 'decision' || r.request.kind !== 'evaluate') continue;
    const specs: CandidateSpec[] = r.request.candidates;
    if (!specs.every((s) => outcomes.has(s.id))) break;
    for (const spec of specs) archive.add(spec, outcomes.get(spec.id) as EvaluationOutcome);
  }
  return archive.entries;
}

/** The run's current Pareto front, lowest f1 first. */
export function front(request: { runDir: string }): FrontRow[] {
  return frontOf(archiveFromJournal(request.runDir)).map((e) => ({
    id: e.spec.id,
    archiveIndex: e.index,
    generation: e.spec.generation,
    genome: e.spec.genome,
    params: e.spec.params,
    f1: e.f1,
    f1Norm: e.f1Norm,
    f2Norm: e.f2Norm,
    valLoss: e.outcome.status === 'completed' ? (e.outcome.valLoss ?? null) : null,
    trainLoss: e.outcome.status === 'completed' ? (e.outcome.trainLoss ?? null) : null,
    predictedF1Norm: e.spec.prediction?.mean ?? null,
  }));
}

/** The front with what each candidate's training folder adds (validation Dice per label). */
export function frontDetails(request: { runDir: string }): FrontDetail[] {
  return front(request).map((row) => {
    const folder = join(request.runDir, RUN_FILES.candidatesDir, row.id);
    return { ...row, valDice: readValDice(join(folder, 'result.json')), folder };
  });
}

function readValDice(path: string): Record<string, number> | null {
  const dice = (readJsonSync(path) as { valDice?: unknown } | undefined)?.valDice;
  if (dice === null || typeof dice !== 'object') return null;
  return Object.fromEntries(
    Object.entries(dice as Record<string, unknown>).filter(
      (e): e is [string, number] => typeof e[1] === 'number',
    ),
  );
}

/** Runs under a folder (each a subfolder with run.json), oldest name first. */
/**
 * A run that failed before its run.json was written (its dataset could not be prepared), as the runs with a
 * folder are summarised: nothing evaluated, nothing planned, and why it failed.
 */
export function earlyFailureSummary({ runDir, started, message }: EarlyFailure): RunSummary {
  return {
    runDir,
    id: basename(runDir),
    ...started,
    evaluated: 0,
    failed: 0,
    finished: false,
    stoppedAtBudget: null,
    lastActivity: null,
    planned: 0,
    running: false,
    finalized: false,
    failure: message,
    cancelled: false,
  };
}

/** The runs under root, with those that failed before they began, by folder name (oldest first). */
export function listRunsAndEarlyFailures(root: string): RunSummary[] {
  const early = listEarlyFailures(root).map(earlyFailureSummary);
  return [...listRuns({ root }), ...early].sort((a, b) =>
    a.runDir < b.runDir ? -1 : a.runDir > b.runDir ? 1 : 0,
  );
}

export function listRuns(request: { root: string }): RunSummary[] {
  return listRunFolders(request.root).map(readRunSummary);
}

/** One run's summary, read from its folder (which must hold a run.json). */
export function readRunSummary(runDir: string): RunSummary {
  const manifest = readRunManifest(runDir);
  const { records } = readJournal(join(runDir, RUN_FILES.journal));
  const results = records.filter((r) => r.t === 'result');
  const stamped = records.filter((r): r is Extract<typeof r, { at: string }> => 'at' in r);
  return {
    runDir,
    id: manifest.id,
    createdAt: manifest.createdAt,
    algorithm: manifest.search.algorithm,
    problem: String(manifest.problem.kind ?? 'unknown'),
    evaluated: results.length,
    failed: results.filter((r) => r.outcome.status === 'failed').length,
    finished: records.some((r) => r.t === 'finished'),
    stoppedAtBudget: readBudgetStop(runDir),
    lastActivity: stamped.length > 0 ? (stamped[stamped.length - 1] as { at: string }).at : null,
    planned: plannedEvaluations(manifest.search),
    running: lockHolder(runDir) === 'alive',
    finalized: existsSync(join(runDir, 'final', 'result.json')),
    failure: readRunFailure(runDir),
    cancelled: isCancelled(runDir),
  };
}
