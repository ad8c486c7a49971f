// Runs in: the engine. The run's list of live worker processes (<run>/workers.json: pid, candidate, the
// process's start time, when), kept by the local worker pool, so that the run lock covers its workers:
// before a new owner of the run trains anything, every worker an earlier owner left behind is ended (or
// waited for), and no two processes ever write into one candidate folder. A pid alone is not trusted:
// the process must also have the recorded start time, or it is another process that got the pid since.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { EmonasError } from '../base/errors.ts';
import { readJsonSync, writeFileAtomicSync } from '../io/files.ts';
import { processExists } from '../base/process-exists.ts';

export const WORKERS_FILE = 'workers.json';

export interface WorkerEntry {
  pid: number;
  candidate: string;
  /** The process's start time as the system reports it (Linux: clock ticks since boot); null if unknown. */
  startTime: string | null;
  /** When the engine started it (ISO time). */
  startedAt: string;
  /** The engine's pid. */
  engine: number;
}

interface WorkersFile {
  format: 'emonas-workers';
  version: 1;
  workers: WorkerEntry[];
}

/** alive: this very process still runs; unverified: something runs under the pid, whose start is unknown. */
type Liveness = 'alive' | 'unverified' | 'gone';

const HAS_PROC = existsSync('/proc/self/stat');

/** Start time and state of a process, or null when there is none (or the system cannot say). */
function processStat(pid: number): { startTime: string; zombie: boolean } | null {
  if (HAS_PROC) {
    let stat: string;
    try {
      stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    } catch {
      return null;
    }
    // The command name in brackets may hold spaces; the fields after it are: state (3rd), ..., start time (22nd).
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { startTime: fields[19] ?? '', zombie: fields[0] === 'Z' };
  }
  if (process.platform === 'win32') return null;
  try {
    const started = execFileSync('ps', ['-o', 'lstart=', '-p', String(pid)], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
    return started === '' ? null : { startTime: started, zombie: false };
  } catch {
    return null;
  }
}

function liveness(entry: WorkerEntry): Liveness {
  const stat = processStat(entry.pid);
  if (stat) return stat.zombie || stat.startTime !== entry.startTime ? 'gone' : 'alive';
  // Where the system names every process's start time, no answer means no process.
  if (HAS_PROC || process.platform !== 'win32') return 'gone';
  return processExists(entry.pid) ? 'unverified' : 'gone';
}

function isEntry(value: unknown): value is WorkerEntry {
  const e = value as Partial<WorkerEntry> | null;
  return (
    typeof e === 'object' &&
    e !== null &&
    Number.isInteger(e.pid) &&
    (e.pid as number) > 0 &&
    typeof e.candidate === 'string' &&
    (e.startTime === null || typeof e.startTime === 'string')
  );
}

export interface WorkerRegistryOptions {
  /** How long to wait for an earlier owner's worker to end, in milliseconds. */
  waitMs?: number;
}

/** The worker pool's ProcessRegistry (core/executors/worker-pool.ts) for one run folder. */
export class WorkerRegistry {
  private readonly file: string;
  private readonly mine = new Set<number>();
  private readonly waitMs: number;

  constructor(runDir: string, options: WorkerRegistryOptions = {}) {
    this.file = join(runDir, WORKERS_FILE);
    this.waitMs = options.waitMs ?? 10_000;
  }

  /** The workers recorded now; entries that are not well formed (a hand-edited file) are left out. */
  entries(): WorkerEntry[] {
    const value = readJsonSync(this.file) as Partial<WorkersFile> | undefined;
    return Array.isArray(value?.workers) ? value.workers.filter(isEntry) : [];
  }

  started(candidate: string, pid: number): void {
    this.mine.add(pid);
    const entry: WorkerEntry = {
      pid,
      candidate,
      startTime: processStat(pid)?.startTime ?? null,
      startedAt: new Date().toISOString(),
      engine: process.pid,
    };
    this.write([...this.entries().filter((e) => e.pid !== pid), entry]);
  }

  ended(candidate: string, pid: number): void {
    this.mine.delete(pid);
    this.write(this.entries().filter((e) => !(e.pid === pid && e.candidate === candidate)));
  }

  /**
   * Ends every recorded worker this registry did not start (an earlier owner's, left by a killed engine
   * or still dying after a stop) and waits until each is gone; a process whose identity cannot be checked
   * (Windows) is only waited for. Throws 'conflict' when one is still there after the wait.
   */
  async endOthers(): Promise<void> {
    const others = this.entries().filter((e) => !this.mine.has(e.pid));
    if (others.length === 0) return;
    for (const entry of others) {
      if (liveness(entry) !== 'alive') continue;
      try {
        process.kill(entry.pid, 'SIGKILL');
      } catch {
        // Ended meanwhile.
      }
    }
    const deadline = Date.now() + this.waitMs;
    let left = others.filter((e) => liveness(e) !== 'gone');
    while (left.length > 0 && Date.now() < deadline) {
      await sleep(50);
      left = left.filter((e) => liveness(e) !== 'gone');
    }
    if (left.length > 0) {
      const names = left.map((e) => `pid ${e.pid} (candidate ${e.candidate})`).join(', ');
      throw new EmonasError(
        'conflict',
        `Training workers of an earlier engine are still running in this run: ${names}. End them, then resume the run.`,
        { file: this.file },
      );
    }
    const ended = new Set(others.map((e) => e.pid));
    this.write(this.entries().filter((e) => !ended.has(e.pid)));
  }

  private write(workers: WorkerEntry[]): void {
    if (workers.length === 0) {
      rmSync(this.file, { force: true });
      return;
    }
    const file: WorkersFile = { format: 'emonas-workers', version: 1, workers };
    writeFileAtomicSync(this.file, JSON.stringify(file, null, 2) + '\n');
  }
}
