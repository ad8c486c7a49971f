// Runs in: the engine. Slurm's command-line tools as functions: sbatch, one squeue query for all of a
// run's tasks, scancel, and MaxArraySize from scontrol. No shell: arguments go to execFile as they are.
// squeue (not sacct) is the source of states, because sacct exits 1 on clusters without accounting.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { EmonasError } from '../../base/errors.ts';

export interface QueueRow {
  /** `<array job id>_<index>`: the name of an array task that stays the same across requeues. */
  key: string;
  /** The task's own job id (what scontrol listpids and scancel also accept). */
  jobId: string;
  state: string;
  /** Why it is pending or how it ended (e.g. Resources, BeginTime, TimeLimit, NonZeroExitCode). */
  reason: string;
  /** Exit status of the batch script; null while it runs. */
  exitCode: number | null;
  /** The signal that ended it, if any. */
  signal: number | null;
  restarts: number;
  comment: string;
}

const COMMAND_TIMEOUT_MS = 120_000;
const FIELDS = ['JobArrayID', 'JobID', 'State', 'Reason', 'exit_code', 'RestartCnt', 'Comment'];

export const ACTIVE_STATES = new Set([
  'PENDING',
  'REQUEUED',
  'REQUEUE_HOLD',
  'REQUEUE_FED',
  'RESV_DEL_HOLD',
  'SUSPENDED',
  'STOPPED',
  'CONFIGURING',
  'RUNNING',
  'COMPLETING',
  'SIGNALING',
  'STAGE_OUT',
  'RESIZING',
]);

const RUNNING_STATES = new Set(['RUNNING', 'COMPLETING', 'SIGNALING', 'STAGE_OUT', 'RESIZING']);

export function isRunning(state: string): boolean {
  return RUNNING_STATES.has(state);
}

export class SlurmCommands {
  constructor(private readonly bin: string | null) {}

  private run(tool: string, args: string[]): Promise<string> {
    const file = this.bin === null ? tool : join(this.bin, tool);
    return new Promise((resolve, reject) => {
      execFile(
        file,
        args,
        { timeout: COMMAND_TIMEOUT_MS, maxBuffer: 64 * 1024 * 1024, encoding: 'utf8' },
        (err, stdout, stderr) => {
          if (!err) return resolve(stdout);
          const code = (err as NodeJS.ErrnoException).code;
          if (code === 'ENOENT') {
            return reject(
              new EmonasError(
                'not_found',
                `Slurm's ${tool} command was not found ${this.bin === null ? 'on the PATH' : `in ${this.bin}`}; run the search where Slurm's commands work (a login node), or set "slurmBin" in the Slurm configuration.`,
              ),
            );
          }
          const said = stderr.trim().split('\n').filter(Boolean).pop() ?? err.message;
          reject(new EmonasError('internal', `${tool} failed: ${said}`, { details: { args, stderr } }));
        },
      );
    });
  }

  /** Submits a batch script; returns the job id. */
  async sbatch(scriptPath: string): Promise<string> {
    let out: string;
    try {
      out = await this.run('sbatch', ['--parsable', scriptPath]);
    } catch (err) {
      if (err instanceof EmonasError && err.code === 'internal') {
        throw new EmonasError(
          'bad_request',
          `Slurm refused the candidates' job (${err.message}). Check the partition, account, time limit and GPU request in the Slurm configuration; the job script is ${scriptPath}.`,
          { file: scriptPath },
        );
      }
      throw err;
    }
    const id = /^(\d+)/.exec(out.trim())?.[1];
    if (id === undefined) {
      throw new EmonasError('internal', `sbatch printed "${out.trim()}" instead of a job id.`, {
        file: scriptPath,
      });
    }
    return id;
  }

  /** Every task of the jobs with this name, array tasks one per line, finished ones included. */
  async squeue(jobName: string): Promise<QueueRow[]> {
    const format = FIELDS.map((f) => `${f}:|`).join(',');
    const out = await this.run('squeue', [
      '--noheader',
      '--array',
      '--states=all',
      `--name=${jobName}`,
      `--Format=${format}`,
    ]);
    return parseQueue(out);
  }

  async scancel(keys: string[], options: { signal?: string } = {}): Promise<void> {
    if (keys.length === 0) return;
    const flags = options.signal ? [`--signal=${options.signal}`, '--full'] : [];
    await this.run('scancel', [...flags, ...keys]);
  }

  /** MaxArraySize of the cluster: arrays may hold indices 0 .. MaxArraySize - 1. */
  async maxArraySize(): Promise<number> {
    const out = await this.run('scontrol', ['show', 'config']);
    const value = /^\s*MaxArraySize\s*=\s*(\d+)/m.exec(out)?.[1];
    return value === undefined ? 1001 : Number(value);
  }
}

/** Parses `squeue --Format` lines of the FIELDS, each ended by `|` (the comment last: it may hold anything). */
export function parseQueue(text: string): QueueRow[] {
  const rows: QueueRow[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    const parts = line.split('|');
    if (parts.length < FIELDS.length) continue;
    const [key, jobId, state, reason, exit, restarts] = parts.map((p) => p.trim()) as [
      string,
      string,
      string,
      string,
      string,
      string,
    ];
    const comment = parts
      .slice(FIELDS.length - 1, -1)
      .join('|')
      .trim();
    const raw = /^\d+$/.test(exit) ? Number(exit) : null;
    // squeue prints the wait status: exit code in the high byte, terminating signal in the low bits.
    const ended = raw !== null && !ACTIVE_STATES.has(state);
    rows.push({
      key,
      jobId,
      state: state.replace(/\+$/, ''),
      reason,
      exitCode: ended ? raw >> 8 : null,
      signal: ended && (raw & 0x7f) !== 0 ? raw & 0x7f : null,
      restarts: /^\d+$/.test(restarts) ? Number(restarts) : 0,
      comment,
    });
  }
  return rows;
}
