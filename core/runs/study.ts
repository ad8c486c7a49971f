// Runs in: the engine. A study drives one strategy to its end against an executor, journaling every step
// before the next depends on it. Opening a run that already has a journal replays it first: the strategy
// is fed the journaled predictions and results, every decision it makes again is checked against the
// journal, and it continues live from the first step the journal lacks. So a resumed run is the run that
// would have happened without the interruption; only candidates without a result are evaluated again.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { EmonasError } from '../base/errors.ts';
import {
  CANCELLED,
  type EvaluationTask,
  type Executor,
  type TaskHandle,
  type TaskResult,
} from '../executors/executor.ts';
import { frontOf, sanitiseOutcome } from '../search/archive.ts';
import type {
  CandidateSpec,
  EvaluationOutcome,
  PredictRequest,
  SearchStrategy,
  SizeCheck,
} from '../search/protocol.ts';
import { clearBudgetStop, isBudgetStop, writeBudgetStop } from './budget-stop.ts';
import { writeRunTables } from './exports.ts';
import { Journal, isDecision, type DecisionRecord } from './journal.ts';
import { RUN_FILES, candidateDir } from './run-folder.ts';
import { clearRunFailure } from './run-failure.ts';
import { lockRun } from './run-lock.ts';

export type StudyEvent =
  | { type: 'run.resumed'; replayedDecisions: number; notes: string[] }
  | { type: 'candidate.started'; id: string; generation: number }
  | { type: 'candidate.completed'; id: string; outcome: EvaluationOutcome; seconds: number | null }
  | { type: 'generation.completed'; record: Record<string, unknown> }
  | { type: 'run.finished'; evaluated: number };

/**
 * Answers the strategy's predict requests: core/search's RandomForestSurrogate in this thread, or a host
 * that fits off the engine's thread (hence the promise).
 */
export interface SurrogateHost {
  predict(request: PredictRequest): SurrogateAnswer | Promise<SurrogateAnswer>;
}

export interface SurrogateAnswer {
  mean: number[];
  std: number[];
}

export interface StudyOptions {
  dir: string;
  strategy: SearchStrategy;
  executor: Executor;
  surrogate: SurrogateHost;
  /** Passed to every evaluation task (e.g. training settings). */
  payload?: unknown;
  onEvent?: (event: StudyEvent) => void;
  /** Stops the study: running evaluations are cancelled and will be evaluated again on resume. */
  signal?: AbortSignal;
  /** Longest wait between two looks at the executor, in milliseconds. */
  pollMs?: number;
  /** The run's size bound: the last guard that no candidate outside it reaches the executor. */
  sizeCheck?: SizeCheck | null;
}

export interface StudyOutcome {
  status: 'finished' | 'stopped';
  evaluated: number;
  replayedDecisions: number;
  notes: string[];
}

const now = (): string => new Date().toISOString();

export async function runStudy(options: StudyOptions): Promise<StudyOutcome> {
  const { dir, strategy, executor, surrogate, signal } = options;
  const emit = options.onEvent ?? ((): void => {});
  const journalPath = join(dir, RUN_FILES.journal);
  const release = lockRun(dir);
  // Driven again: an earlier failure or budget stop no longer describes the run.
  clearRunFailure(dir);
  clearBudgetStop(dir);
  const { journal, records, tornLine } = Journal.open(journalPath);
  try {
    const notes: string[] = [];
    const note = (message: string): void => {
      notes.push(message);
      journal.append({ t: 'note', message, at: now() });
    };
    if (tornLine !== null) {
      note(
        `Ignored a torn last line of the journal (${tornLine.length} characters), left by an interrupted write.`,
      );
    }
    const decisions = records.filter(isDecision);
    const results = new Map<string, EvaluationOutcome>();
    const handles = new Map<string, TaskHandle>();
    for (const r of records) {
      if (r.t === 'result' && !results.has(r.id)) results.set(r.id, r.outcome);
      if (r.t === 'submitted') handles.set(r.id, r.handle);
    }
    const wasFinished = records.some((r) => r.t === 'finished');
    if (records.length > 0) emit({ type: 'run.resumed', replayedDecisions: decisions.length, notes });

    let seq = 0;
    const decide = (record: DecisionRecord): void => {
      const journaled = decisions[seq];
      if (journaled === undefined) journal.append(record);
      else if (JSON.stringify(journaled) !== JSON.stringify(record)) throw mismatch(seq, journalPath);
      seq++;
    };

    const evaluate = async (specs: CandidateSpec[]): Promise<boolean> => {
      const pending = new Set(specs.map((s) => s.id));
      const known = specs.flatMap((s) => (handles.has(s.id) ? [handles.get(s.id) as TaskHandle] : []));
      const reattached = new Set(known.length > 0 ? await executor.reattach(known) : []);
      if (reattached.size > 0)
        note(`Reattached to ${reattached.size} evaluation(s) still running: ${[...reattached].join(', ')}.`);
      checkWithinBound(specs, options.sizeCheck ?? null);
      const tasks: EvaluationTask[] = specs
        .filter((s) => !reattached.has(s.id))
        .map((s) => ({
          id: s.id,
          genome: s.genome,
          indices: s.indices,
          seed: s.seed,
          workDir: candidateDir(dir, s.id),
          payload: options.payload,
        }));
      if (tasks.length > 0) {
        for (const handle of await executor.submit(tasks)) {
          journal.append({ t: 'submitted', id: handle.id, handle, at: now() });
          handles.set(handle.id, handle);
          emit({
            type: 'candidate.started',
            id: handle.id,
            generation: specs.find((s) => s.id === handle.id)?.generation ?? 0,
          });
        }
      }
      const record = (result: TaskResult): void => {
        if (!pending.has(result.id)) return;
        const outcome = sanitiseOutcome(result.outcome);
        journal.append({ t: 'result', id: result.id, outcome, at: now(), seconds: result.seconds });
        results.set(result.id, outcome);
        pending.delete(result.id);
        const spec = specs.find((s) => s.id === result.id);
        writeFileSync(
          join(candidateDir(dir, result.id), 'candidate.json'),
          JSON.stringify({ spec, outcome, seconds: result.seconds ?? null }, null, 2) + '\n',
        );
        emit({ type: 'candidate.completed', id: result.id, outcome, seconds: result.seconds ?? null });
      };
      while (pending.size > 0) {
        if (signal?.aborted) {
          await executor.cancel([...pending]);
          // What finished before the cancel is kept; what was cancelled is evaluated again on resume.
          for (const result of await executor.collect()) {
            if (!(result.outcome.status === 'failed' && result.outcome.code === CANCELLED)) record(result);
          }
          return false;
        }
        const finished = await executor.collect();
        finished.forEach(record);
        if (pending.size > 0 && finished.length === 0)
          await waitOrAbort(executor, options.pollMs ?? 1000, signal);
      }
      return true;
    };

    for (let request = strategy.ask(); request.kind !== 'done'; request = strategy.ask()) {
      if (request.kind === 'predict') {
        const journaled = decisions[seq];
        let answer: SurrogateAnswer;
        if (
          journaled?.t === 'prediction' &&
          journaled.fitKey === request.fitKey &&
          sameIds(journaled.ids, request.ids)
        ) {
          answer = { mean: journaled.mean, std: journaled.std };
        } else if (journaled !== undefined) {
          throw mismatch(seq, journalPath);
        } else {
          answer = await surrogate.predict(request);
          journal.append({
            t: 'prediction',
            seq,
            generation: request.generation,
            fitKey: request.fitKey,
            ids: request.ids,
            ...answer,
          });
        }
        seq++;
        strategy.tell({ kind: 'predicted', ...answer });
        continue;
      }
      const live = seq >= decisions.length;
      decide({ t: 'decision', seq, request });
      if (request.kind === 'log') {
        if (live) emit({ type: 'generation.completed', record: request.record });
        strategy.tell({ kind: 'ack' });
        continue;
      }
      const missing = request.candidates.filter((c) => !results.has(c.id));
      if (missing.length > 0 && !(await evaluate(missing))) {
        writeRunTables(dir, strategy.archive(), frontOf(strategy.archive()));
        if (isBudgetStop(signal?.reason)) await writeBudgetStop(dir, signal.reason.minutes);
        return {
          status: 'stopped',
          evaluated: strategy.archive().length,
          replayedDecisions: decisions.length,
          notes,
        };
      }
      strategy.tell({
        kind: 'evaluated',
        outcomes: Object.fromEntries(
          request.candidates.map((c) => [c.id, results.get(c.id) as EvaluationOutcome]),
        ),
      });
      if (missing.length > 0) writeRunTables(dir, strategy.archive(), frontOf(strategy.archive()));
    }
    const evaluated = strategy.archive().length;
    writeRunTables(dir, strategy.archive(), frontOf(strategy.archive()));
    if (!wasFinished) {
      journal.append({ t: 'finished', evaluated, at: now() });
      emit({ type: 'run.finished', evaluated });
    }
    return { status: 'finished', evaluated, replayedDecisions: decisions.length, notes };
  } finally {
    journal.close();
    release();
  }
}

/** The strategies repair every candidate into the size bound, so one outside it is a bug, never trained. */
function checkWithinBound(specs: CandidateSpec[], check: SizeCheck | null): void {
  if (!check) return;
  for (const spec of specs) {
    const reason = check(spec.genome);
    if (reason !== null) {
      throw new EmonasError(
        'internal',
        `Candidate ${spec.id} ${reason}; the search should have repaired it to fit, so it was not handed to the executor. This is a bug in the search: please report it with the run folder.`,
      );
    }
  }
}

function sameIds(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((id, i) => id === b[i]);
}

function mismatch(seq: number, file: string): EmonasError {
  return new EmonasError(
    'conflict',
    `Step ${seq} of the run journal differs from what the search decides now, so this run cannot be resumed exactly; it was probably made with other settings or another software version (see run.json). Resume it with that version, or start a new run.`,
    { file },
  );
}

function waitOrAbort(executor: Executor, ms: number, signal: AbortSignal | undefined): Promise<void> {
  if (!signal) return executor.waitForResults(ms);
  return new Promise((resolve) => {
    const done = (): void => {
      signal.removeEventListener('abort', done);
      resolve();
    };
    signal.addEventListener('abort', done);
    void executor.waitForResults(ms).then(done);
  });
}
