// Runs in: the engine. What the dashboard shows about a run, read from its folder alone (run.json and the
// journal), so a client that missed events, reconnected or reloaded gets the whole truth in one call: the
// plan, every candidate the search asked for with its fate, the figures of each generation, and a
// candidate's learning curves from its training log.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { EmonasError } from '../base/errors.ts';
import type {
  CandidateRow,
  EpochPoint,
  GenerationRow,
  RunPlan,
  RunProgress,
  RunSummary,
} from '../api/runs.ts';
import { frontOf } from '../search/archive.ts';
import type { SearchConfig } from '../search/config.ts';
import { generationSize, plannedEvaluations } from '../search/plan.ts';
import type { CandidateSpec, EvaluationOutcome } from '../search/protocol.ts';
import { EPOCH_LOG_FILE } from '../train/epoch-log.ts';
import { readJournal } from './journal.ts';
import { RUN_FILES, readRunManifest, type RunManifest } from './run-folder.ts';
import { archiveFromJournal } from './run-summary.ts';

function numberOr(value: unknown, fallback: number | null): number | null {
  return typeof value === 'number' && Number.isFinite(value) ? value : fallback;
}

/** What a search is set to do, from its configuration. */
export function planFromConfig(search: SearchConfig, workers: number, dataset: string | null): RunPlan {
  return {
    generations: search.generations,
    population: generationSize(search),
    maxEvaluations: search.maxEvaluations,
    epochs: search.objective.epochs,
    expectedCandidates: plannedEvaluations(search),
    surrogate: search.algorithm === 'samea' && search.surrogate.enabled,
    workers,
    dataset,
    protocol: search.protocol,
  };
}

function planOf(manifest: RunManifest): RunPlan {
  const dataset = manifest.problem.dataset;
  return planFromConfig(
    manifest.search,
    manifest.executor?.slots ?? 1,
    typeof dataset === 'string' ? dataset : null,
  );
}

function generationRow(record: Record<string, unknown>): GenerationRow | null {
  const generation = numberOr(record.generation, null);
  if (generation === null) return null;
  return {
    generation,
    phase: typeof record.phase === 'string' ? record.phase : null,
    evaluated: numberOr(record.evaluated, 0) as number,
    frontSize: numberOr(record.frontSize, null),
    hypervolume: numberOr(record.hypervolume, null),
    kendallTau: numberOr(record.kendallTau, null),
  };
}

/**
 * The run's progress. `live` says whether a process is driving the run now: a candidate submitted without
 * a result is training when it is (up to the executor's slots, the rest queued there), and queued again
 * (it is retrained on resume) when it is not.
 */
export function runProgress(summary: RunSummary, live: boolean): Omit<RunProgress, 'preparing'> {
  const manifest = readRunManifest(summary.runDir);
  const { records } = readJournal(join(summary.runDir, RUN_FILES.journal));
  const specs = new Map<string, CandidateSpec>();
  const submitted: string[] = [];
  const results = new Map<string, { outcome: EvaluationOutcome; seconds: number | null }>();
  const generations: GenerationRow[] = [];
  for (const r of records) {
    if (r.t === 'decision' && r.request.kind === 'evaluate') {
      for (const spec of r.request.candidates) if (!specs.has(spec.id)) specs.set(spec.id, spec);
    } else if (r.t === 'decision' && r.request.kind === 'log') {
      const row = generationRow(r.request.record);
      if (row) generations.push(row);
    } else if (r.t === 'submitted') {
      submitted.push(r.id);
    } else if (r.t === 'result' && !results.has(r.id)) {
      results.set(r.id, { outcome: r.outcome, seconds: r.seconds ?? null });
    }
  }
  const plan = planOf(manifest);
  // The executor trains `workers` at once, first submitted first; the others it holds wait their turn.
  const training = new Set(live ? submitted.filter((id) => !results.has(id)).slice(0, plan.workers) : []);
  const archive = archiveFromJournal(summary.runDir);
  const entries = new Map(archive.map((e) => [e.spec.id, e]));
  const front = new Set(frontOf(archive).map((e) => e.spec.id));
  // Results of a batch still training are not in the archive yet: until they are, the front shown is the
  // non-dominated set of every completed result (the same order: lower f1, fewer parameters).
  if (archive.length < results.size) {
    const done = [...specs.values()].flatMap((spec) => {
      const outcome = results.get(spec.id)?.outcome;
      return outcome?.status === 'completed' ? [{ id: spec.id, f1: outcome.f1, params: spec.params }] : [];
    });
    front.clear();
    for (const a of done) {
      const dominated = done.some(
        (b) => b.f1 <= a.f1 && b.params <= a.params && (b.f1 < a.f1 || b.params < a.params),
      );
      if (!dominated) front.add(a.id);
    }
  }
  const candidates: CandidateRow[] = [...specs.values()].map((spec) => {
    const result = results.get(spec.id);
    const entry = entries.get(spec.id);
    const outcome = result?.outcome;
    const completed = outcome?.status === 'completed' ? outcome : null;
    return {
      id: spec.id,
      generation: spec.generation,
      phase: spec.phase,
      genome: spec.genome,
      params: spec.params,
      status: outcome ? outcome.status : training.has(spec.id) ? 'training' : 'queued',
      f1: entry?.f1 ?? completed?.f1 ?? null,
      f1Norm: entry?.f1Norm ?? null,
      f2Norm: spec.f2Norm,
      valLoss: completed?.valLoss ?? null,
      trainLoss: completed?.trainLoss ?? null,
      epochs: completed?.epochs ?? null,
      seconds: result?.seconds ?? null,
      failure: outcome?.status === 'failed' ? { code: outcome.code, reason: outcome.reason } : null,
      predictedF1Norm: spec.prediction?.mean ?? null,
      predictedStd: spec.prediction?.std ?? null,
      onFront: front.has(spec.id),
    };
  });
  const timed = [...results.values()].filter(
    (r): r is { outcome: EvaluationOutcome; seconds: number } =>
      r.outcome.status === 'completed' && r.seconds !== null,
  );
  return {
    summary,
    plan,
    generations,
    candidates,
    meanCandidateSeconds:
      timed.length > 0 ? timed.reduce((sum, r) => sum + r.seconds, 0) / timed.length : null,
  };
}

/** A candidate's training log (training-log.csv) as points; empty before its first epoch ends. */
export function candidateCurves(runDir: string, candidateId: string): EpochPoint[] {
  const file = join(runDir, RUN_FILES.candidatesDir, candidateId, EPOCH_LOG_FILE);
  if (!existsSync(join(runDir, RUN_FILES.candidatesDir, candidateId))) {
    throw new EmonasError(
      'not_found',
      `Run ${runDir} has no candidate '${candidateId}'; pick one from the run's candidate table.`,
      { file: join(runDir, RUN_FILES.candidatesDir) },
    );
  }
  return epochLog(file);
}

/** A training log (training-log.csv) as points; empty while it does not exist. */
export function epochLog(file: string): EpochPoint[] {
  if (!existsSync(file)) return [];
  const [header, ...lines] = readFileSync(file, 'utf8').split('\n');
  const columns = (header ?? '').split(',');
  const at = (name: string) => columns.indexOf(name);
  const dice = columns.flatMap((c, i) => (c.startsWith('val_dice_') ? [[c.slice(9), i] as const] : []));
  const points: EpochPoint[] = [];
  for (const line of lines) {
    // A worker killed mid-write can leave a short last line; the epochs before it still count.
    const cells = line.split(',');
    if (cells.length !== columns.length) continue;
    const value = (i: number) => Number(cells[i]);
    const point: EpochPoint = {
      epoch: value(at('epoch')),
      trainLoss: value(at('loss')),
      valLoss: value(at('val_loss')),
      valDice: Object.fromEntries(dice.map(([name, i]) => [name, value(i)])),
    };
    if ([point.epoch, point.trainLoss, point.valLoss].every(Number.isFinite)) points.push(point);
  }
  return points;
}
