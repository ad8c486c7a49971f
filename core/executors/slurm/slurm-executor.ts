// Runs in: the engine (the search coordinator, on a login node or in a small job of its own). The executor
// that sends candidates to Slurm: each submit() is one job array (split at MaxArraySize) whose tasks run
// `emonas worker`; one squeue query per poll interval watches all of the run's tasks; a task's result file
// on shared storage is the truth, whatever Slurm says; a task that Slurm ended without a result (time
// limit, preemption, node failure, a cancel from outside, vanished) is resubmitted and resumes from its
// checkpoint, up to maxRetries, then fails with Slurm's reason and the end of its log. The ledger on shared
// storage lets a restarted coordinator reattach to its jobs without submitting anything twice.
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { EmonasError } from '../../base/errors.ts';
import {
  type EvaluationTask,
  type Executor,
  type ExecutorCapabilities,
  type TaskHandle,
  type TaskResult,
  type TaskState,
} from '../executor.ts';
import { FinishedResults, cancelledOutcome } from '../finished-results.ts';
import type { SlurmConfig } from './config.ts';
import { jobScript } from './job-script.ts';
import { Ledger, type BatchTask } from './ledger.ts';
import { ACTIVE_STATES, SlurmCommands, isRunning, type QueueRow } from './slurm-commands.ts';
import { logTail, verdictFor } from './verdict.ts';
import {
  TASK_FILES,
  fingerprintOf,
  readResultFile,
  writeFileAtomic,
  type EvaluatorSpec,
  type TaskResultFile,
  type TaskSpec,
} from './worker-files.ts';

export interface SlurmSetup {
  /** Folder on storage that the compute nodes see (e.g. <run>/slurm): ledger, candidate files, scripts, logs. */
  stateDir: string;
  /** Slurm job name of every batch of the run: letters, digits, dots, dashes, underscores. */
  jobName: string;
  /** How the job step evaluates a candidate. */
  evaluator: EvaluatorSpec;
  /** Receives one line per notable event (a resubmission, a failed squeue), for the coordinator's log. */
  log?: (line: string) => void;
}

export const STATE_FILES = {
  ledger: 'ledger.jsonl',
  batches: 'batches',
  logs: 'logs',
  work: 'work',
} as const;

/** Polls in a row that a task may be missing from squeue, or ended without a result file, before it counts. */
const CONFIRM_POLLS = 2;
/** sbatch failures in a row after which a resubmission is given up. */
const SUBMIT_ATTEMPTS = 3;

interface Tracked {
  id: string;
  fingerprint: string;
  spec: TaskSpec;
  attempt: number;
  /** `<array job id>_<index>`. */
  key: string;
  state: TaskState;
  missingPolls: number;
  endedPolls: number;
}

interface PendingRetry {
  tracked: Tracked;
  after: string;
  failures: number;
}

export class SlurmExecutor implements Executor {
  private readonly commands: SlurmCommands;
  private readonly ledger: Ledger;
  private readonly tracked = new Map<string, Tracked>();
  private readonly retries: PendingRetry[] = [];
  private readonly finished = new FinishedResults();
  private readonly stop = new AbortController();
  private arraySize: number | null;
  private loop: Promise<void> | null = null;
  private closed = false;

  constructor(
    private readonly config: SlurmConfig,
    private readonly setup: SlurmSetup,
  ) {
    if (!/^[A-Za-z0-9._-]+$/.test(setup.jobName)) {
      throw new EmonasError(
        'bad_request',
        `The Slurm job name "${setup.jobName}" may hold only letters, digits, dots, dashes and underscores.`,
      );
    }
    this.commands = new SlurmCommands(config.slurmBin);
    for (const dir of [STATE_FILES.batches, STATE_FILES.logs, STATE_FILES.work]) {
      mkdirSync(join(setup.stateDir, dir), { recursive: true });
    }
    this.ledger = new Ledger(join(setup.stateDir, STATE_FILES.ledger));
    this.arraySize = config.maxArraySize;
  }

  async capabilities(): Promise<ExecutorCapabilities> {
    const c = this.config;
    const gpus =
      c.gpusPerTask === 0 ? 'no GPU' : `${c.gpusPerTask} ${c.gpuType ?? ''} GPU(s)`.replace('  ', ' ');
    return {
      kind: 'slurm',
      slots: c.maxConcurrent,
      devices: [
        {
          id: 'slurm',
          description: `Slurm partition ${c.partition ?? '(default)'}: ${gpus} and ${c.cpusPerTask} CPUs per candidate, ${c.timeLimitMinutes} min limit`,
        },
      ],
      canReattach: true,
    };
  }

  async submit(tasks: EvaluationTask[]): Promise<TaskHandle[]> {
    if (this.closed) throw new EmonasError('conflict', 'This executor has been closed; start a new one.');
    const pending = new Set([
      ...this.tracked.keys(),
      ...this.retries.map((r) => r.tracked.id),
      ...this.finished.ids(),
    ]);
    for (const task of tasks) {
      if (pending.has(task.id))
        throw new EmonasError('conflict', `Candidate ${task.id} is already being evaluated.`);
      pending.add(task.id);
    }
    const specs = tasks.map((task) => this.specFor(task));
    const handles = new Map<string, TaskHandle>();
    const fresh: TaskSpec[] = [];
    const known = specs.filter((s) => {
      const placement = this.ledger.placement(s.id);
      return placement !== undefined && placement.task.fingerprint === s.fingerprint && !placement.cancelled;
    });
    const rows = known.length > 0 ? await this.queue() : null;
    for (const spec of specs) {
      const result = readResultFile(spec.resultPath, spec.id, spec.fingerprint);
      const placement = this.ledger.placement(spec.id);
      if (result !== null) {
        // Evaluated before (by a run of this coordinator that died before noting it): the file is the truth.
        this.finishWith(spec.id, result);
        handles.set(spec.id, {
          id: spec.id,
          executor: 'slurm',
          ref: placement ? this.keyOf(placement) : 'result',
        });
      } else if (rows !== null && known.includes(spec) && placement?.jobId) {
        const tracked = this.track(spec, placement.task, placement.jobId, rows);
        this.setup.log?.(
          `Candidate ${spec.id} is already in Slurm as job ${tracked.key}; not submitting it again.`,
        );
        handles.set(spec.id, { id: spec.id, executor: 'slurm', ref: tracked.key });
      } else {
        fresh.push(spec);
      }
    }
    for (const tracked of await this.submitBatches(fresh.map((spec) => ({ spec, attempt: 0 })))) {
      handles.set(tracked.id, { id: tracked.id, executor: 'slurm', ref: tracked.key });
    }
    this.ensureLoop();
    return tasks.map((t) => handles.get(t.id) as TaskHandle);
  }

  async poll(): Promise<{ id: string; state: TaskState }[]> {
    return [
      ...[...this.tracked.values()].map((t) => ({ id: t.id, state: t.state })),
      ...this.retries.map((r) => ({ id: r.tracked.id, state: 'queued' as const })),
      ...this.finished.states(),
    ];
  }

  async collect(): Promise<TaskResult[]> {
    return this.finished.collect();
  }

  waitForResults(timeoutMs: number): Promise<void> {
    return this.finished.wait(timeoutMs);
  }

  async cancel(ids: string[]): Promise<void> {
    const keys: string[] = [];
    const cancelled: string[] = [];
    for (const id of ids) {
      const retryAt = this.retries.findIndex((r) => r.tracked.id === id);
      const tracked = this.tracked.get(id) ?? this.retries[retryAt]?.tracked;
      if (!tracked) continue;
      if (retryAt >= 0) this.retries.splice(retryAt, 1);
      else keys.push(tracked.key);
      this.tracked.delete(id);
      cancelled.push(id);
      this.finished.add({ id, outcome: cancelledOutcome() });
    }
    if (cancelled.length === 0) return;
    this.ledger.append({ t: 'cancelled', ids: cancelled, at: now() });
    try {
      await this.commands.scancel(keys);
    } catch (err) {
      this.setup.log?.(`Could not cancel Slurm jobs ${keys.join(' ')}: ${(err as Error).message}`);
    }
  }

  async reattach(handles: TaskHandle[]): Promise<string[]> {
    if (this.closed) return [];
    const candidates = handles.filter((h) => {
      const p = this.ledger.placement(h.id);
      return h.executor === 'slurm' && p !== undefined && !p.cancelled && !this.tracked.has(h.id);
    });
    if (candidates.length === 0) return [];
    const rows = await this.queue();
    const back: string[] = [];
    for (const handle of candidates) {
      const placement = this.ledger.placement(handle.id);
      if (!placement?.jobId) continue;
      const spec = readSpec(placement.task.specPath);
      if (spec === null) continue;
      const result = readResultFile(spec.resultPath, spec.id, spec.fingerprint);
      if (result !== null) this.finishWith(spec.id, result);
      else this.track(spec, placement.task, placement.jobId, rows);
      back.push(handle.id);
    }
    this.ensureLoop();
    return back;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    await this.cancel([...this.tracked.keys(), ...this.retries.map((r) => r.tracked.id)]);
    this.closed = true;
    this.stop.abort();
    await this.loop;
  }

  /**
   * Stops watching and leaves every job running in Slurm, for a coordinator that exits to be resumed later:
   * the resumed run reattaches to them. submit afterwards is refused.
   */
  async detach(): Promise<void> {
    this.closed = true;
    this.stop.abort();
    await this.loop;
  }

  /** One squeue call; batches whose job id was never written down are matched by their comment. */
  private async queue(): Promise<QueueRow[]> {
    const rows = await this.commands.squeue(this.setup.jobName);
    for (const batch of this.ledger.unconfirmedBatches()) {
      const row = rows.find((r) => r.comment === batch);
      if (row)
        this.ledger.append({ t: 'submitted', batch, jobId: row.key.split('_')[0] as string, at: now() });
    }
    return rows;
  }

  private specFor(task: EvaluationTask): TaskSpec {
    const workDir = task.workDir ?? join(this.setup.stateDir, STATE_FILES.work, safeName(task.id));
    const fingerprint = fingerprintOf({ ...task, evaluator: this.setup.evaluator });
    return {
      format: 'emonas-slurm-task',
      version: 1,
      id: task.id,
      genome: task.genome,
      indices: [...task.indices],
      seed: task.seed,
      ...(task.payload === undefined ? {} : { payload: task.payload }),
      evaluator: this.setup.evaluator,
      fingerprint,
      workDir,
      resultPath: join(workDir, TASK_FILES.result),
      checkpointPath: join(workDir, TASK_FILES.checkpoint),
    };
  }

  private track(spec: TaskSpec, task: BatchTask, jobId: string, rows: QueueRow[]): Tracked {
    const key = `${jobId}_${task.index}`;
    const row = rows.find((r) => r.key === key);
    const tracked: Tracked = {
      id: spec.id,
      fingerprint: spec.fingerprint,
      spec,
      attempt: task.attempt,
      key,
      state: row && isRunning(row.state) ? 'running' : 'queued',
      missingPolls: 0,
      endedPolls: 0,
    };
    this.tracked.set(spec.id, tracked);
    return tracked;
  }

  /** Writes the candidate files and one job script per chunk, notes each batch, then calls sbatch. */
  private async submitBatches(
    items: { spec: TaskSpec; attempt: number; after?: string }[],
  ): Promise<Tracked[]> {
    if (items.length === 0) return [];
    this.arraySize ??= await this.commands.maxArraySize();
    const out: Tracked[] = [];
    for (let start = 0; start < items.length; start += this.arraySize) {
      const chunk = items.slice(start, start + this.arraySize);
      const batch = `${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
      const batchDir = join(this.setup.stateDir, STATE_FILES.batches, batch);
      mkdirSync(batchDir, { recursive: true });
      const tasks: BatchTask[] = chunk.map(({ spec, attempt, after }, index) => {
        mkdirSync(spec.workDir, { recursive: true });
        const specPath = join(batchDir, `${index}.json`);
        writeFileAtomic(specPath, JSON.stringify(spec, null, 2) + '\n');
        return {
          id: spec.id,
          index,
          fingerprint: spec.fingerprint,
          attempt,
          specPath,
          resultPath: spec.resultPath,
          ...(after === undefined ? {} : { after }),
        };
      });
      const scriptPath = join(batchDir, 'job.sbatch');
      writeFileSync(
        scriptPath,
        jobScript({
          jobName: this.setup.jobName,
          batchId: batch,
          batchDir,
          size: chunk.length,
          logPattern: join(this.setup.stateDir, STATE_FILES.logs, '%A_%a.log'),
          config: this.config,
        }),
      );
      this.ledger.append({ t: 'batch', batch, tasks, at: now() });
      const jobId = await this.commands.sbatch(scriptPath);
      this.ledger.append({ t: 'submitted', batch, jobId, at: now() });
      chunk.forEach(({ spec }, index) => out.push(this.track(spec, tasks[index] as BatchTask, jobId, [])));
    }
    return out;
  }

  private ensureLoop(): void {
    if (this.loop !== null || this.closed) return;
    this.loop = (async () => {
      while (!this.closed && (this.tracked.size > 0 || this.retries.length > 0)) {
        try {
          await sleep(this.config.pollSeconds * 1000, undefined, { signal: this.stop.signal });
        } catch {
          break;
        }
        try {
          await this.refresh();
        } catch (err) {
          this.setup.log?.(`Slurm executor: ${(err as Error).message}`);
        }
      }
      this.loop = null;
    })();
  }

  /** One look at the queue: results in, ended tasks judged, duplicates cancelled, retries submitted. */
  private async refresh(): Promise<void> {
    if (this.tracked.size > 0) {
      let rows: QueueRow[];
      try {
        rows = await this.queue();
      } catch (err) {
        this.setup.log?.(`Could not query Slurm (will try again): ${(err as Error).message}`);
        return;
      }
      const byKey = new Map(rows.map((r) => [r.key, r]));
      const duplicates: string[] = [];
      for (const t of [...this.tracked.values()]) {
        // The queue was read first: a task it shows as ended had written its result before that.
        const row = byKey.get(t.key);
        const result = readResultFile(t.spec.resultPath, t.id, t.fingerprint);
        if (result !== null) {
          this.tracked.delete(t.id);
          this.finishWith(t.id, result);
          // A task still running whose result another run wrote (an earlier attempt that finished late)
          // is a duplicate; the task that wrote it is merely exiting.
          if (row && ACTIVE_STATES.has(row.state) && result.slurmJob !== t.key) duplicates.push(t.key);
          continue;
        }
        if (row === undefined) {
          if (++t.missingPolls < CONFIRM_POLLS) continue;
        } else if (ACTIVE_STATES.has(row.state)) {
          t.state = isRunning(row.state) ? 'running' : 'queued';
          t.missingPolls = 0;
          t.endedPolls = 0;
          continue;
        } else if (++t.endedPolls < CONFIRM_POLLS) {
          // Shared file systems may show a result written on another node a little later.
          continue;
        }
        this.tracked.delete(t.id);
        this.judge(t, row);
      }
      if (duplicates.length > 0) {
        await this.commands.scancel(duplicates).catch(() => undefined);
      }
    }
    await this.resubmit();
  }

  private judge(t: Tracked, row: QueueRow | undefined): void {
    const verdict = verdictFor(row, this.config.timeLimitMinutes);
    const sentence = `Slurm job ${t.key} of candidate ${t.id} ${verdict.what}`;
    if (verdict.retry && t.attempt < this.config.maxRetries) {
      this.setup.log?.(
        `${sentence}; submitting it again (attempt ${t.attempt + 2}), to resume from its checkpoint.`,
      );
      this.retries.push({ tracked: t, after: sentence, failures: 0 });
      return;
    }
    const log = join(this.setup.stateDir, STATE_FILES.logs, `${t.key}.log`);
    const tail = logTail(log);
    const tries = t.attempt + 1;
    const reason =
      `${sentence}${verdict.retry ? `, after ${tries} run${tries > 1 ? 's' : ''}; the candidate was given up` : ''}.` +
      (tail ? ` The end of its log (${log}): ${tail}` : ` Its log: ${log}.`);
    this.giveUp(t, verdict.code, reason);
  }

  /** The coordinator's own result file, so a restarted coordinator sees the same ending. */
  private giveUp(t: Tracked, code: string, reason: string): void {
    const file: TaskResultFile = {
      format: 'emonas-slurm-result',
      version: 1,
      id: t.id,
      fingerprint: t.fingerprint,
      outcome: { status: 'failed', code, reason },
      seconds: 0,
      resumedFrom: null,
      writtenBy: 'coordinator',
      slurmJob: t.key,
      finishedAt: now(),
    };
    writeFileAtomic(t.spec.resultPath, JSON.stringify(file, null, 2) + '\n');
    this.finishWith(t.id, file);
  }

  /**
   * Submits the tasks waiting for another attempt. They stay listed as waiting until sbatch has answered;
   * one cancelled meanwhile has its new job cancelled too.
   */
  private async resubmit(): Promise<void> {
    if (this.retries.length === 0 || this.closed) return;
    const batch = [...this.retries];
    let failure: Error | null = null;
    try {
      await this.submitBatches(
        batch.map((r) => ({ spec: r.tracked.spec, attempt: r.tracked.attempt + 1, after: r.after })),
      );
    } catch (err) {
      failure = err as Error;
      this.setup.log?.(`Could not submit ${batch.length} candidate(s) again: ${failure.message}`);
    }
    const stale: string[] = [];
    for (const r of batch) {
      const at = this.retries.indexOf(r);
      const submitted = this.tracked.get(r.tracked.id);
      if (at < 0) {
        if (submitted) {
          this.tracked.delete(r.tracked.id);
          stale.push(submitted.key);
        }
      } else if (submitted) {
        this.retries.splice(at, 1);
      } else if (++r.failures >= SUBMIT_ATTEMPTS) {
        this.retries.splice(at, 1);
        this.giveUp(r.tracked, 'submit', `${r.after}, and submitting it again failed: ${failure?.message}`);
      }
    }
    if (stale.length > 0) await this.commands.scancel(stale).catch(() => undefined);
  }

  /** The outcome as written: the job step wrote it sanitised, and the search checks every outcome it takes. */
  private finishWith(id: string, file: TaskResultFile): void {
    this.finished.add({ id, outcome: file.outcome, seconds: file.seconds });
  }

  private keyOf(placement: { jobId: string | null; task: BatchTask }): string {
    return placement.jobId === null ? 'result' : `${placement.jobId}_${placement.task.index}`;
  }
}

function now(): string {
  return new Date().toISOString();
}

/** A candidate id as a folder name. */
function safeName(id: string): string {
  return id.replace(/[^A-Za-z0-9._-]/g, (c) => `%${c.charCodeAt(0).toString(16)}`);
}

function readSpec(path: string): TaskSpec | null {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as TaskSpec;
  } catch {
    return null;
  }
}
