// Runs in: the engine. What to do about an array task that Slurm says has ended (or that vanished from the
// queue) without a result file: resubmit it, since time limits, preemption, node failures and cancels
// from outside say nothing about the candidate, or give it up with Slurm's reason and its log's last
// lines. Pure, so every state Slurm can report is tested without a cluster.
import { closeSync, openSync, readSync, statSync } from 'node:fs';
import type { QueueRow } from './slurm-commands.ts';

export interface Verdict {
  /** Worth running again (resuming from the checkpoint). */
  retry: boolean;
  /** Failure code of the candidate if it is given up. */
  code: string;
  /** How the task ended, as the end of a sentence starting with "Slurm job <key>". */
  what: string;
}

/** The worker's exit statuses for a stop on SIGTERM / SIGUSR1 after saving a checkpoint (128 + signal). */
const INTERRUPTED_EXITS = new Set([143, 138]);

export function verdictFor(row: QueueRow | undefined, timeLimitMinutes: number): Verdict {
  if (row === undefined) {
    return {
      retry: true,
      code: 'lost',
      what: 'disappeared from the queue without writing its result (Slurm forgets finished jobs after MinJobAge, and a job deleted by an administrator leaves no trace)',
    };
  }
  const exit =
    row.signal !== null
      ? ` (killed by signal ${row.signal})`
      : row.exitCode !== null && row.exitCode !== 0
        ? ` (exit code ${row.exitCode})`
        : '';
  switch (row.state) {
    case 'CANCELLED':
      return {
        retry: true,
        code: 'cancelled_by_slurm',
        what: 'was cancelled outside Emonas Studio (scancel by you or an administrator)',
      };
    case 'TIMEOUT':
      return {
        retry: true,
        code: 'time_limit',
        what: `reached its time limit of ${timeLimitMinutes} minutes`,
      };
    case 'PREEMPTED':
      return { retry: true, code: 'preempted', what: 'was preempted by a job of higher priority' };
    case 'NODE_FAIL':
    case 'BOOT_FAIL':
      return { retry: true, code: 'node_failure', what: `ended with ${row.state}: its node failed` };
    case 'OUT_OF_MEMORY':
      return {
        retry: false,
        code: 'out_of_memory',
        what: 'ran out of memory (state OUT_OF_MEMORY); ask for more with "memoryGB" in the Slurm configuration, or use a smaller patch or batch',
      };
    case 'DEADLINE':
      return { retry: false, code: 'deadline', what: 'reached its deadline (state DEADLINE)' };
    default:
      if (row.exitCode !== null && INTERRUPTED_EXITS.has(row.exitCode)) {
        return {
          retry: true,
          code: 'interrupted',
          what: `was stopped by a signal${exit} and saved its checkpoint`,
        };
      }
      return {
        retry: true,
        code: 'worker_crashed',
        what: `ended with state ${row.state}${exit} without writing its result${row.reason && row.reason !== 'None' ? ` (reason ${row.reason})` : ''}`,
      };
  }
}

const TAIL_BYTES = 4096;

/** The last few non-empty lines of a job's log, joined, for a failure's reason; '' when there is none. */
export function logTail(path: string, lines = 3): string {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return '';
  }
  try {
    const size = statSync(path).size;
    const length = Math.min(size, TAIL_BYTES);
    const buffer = Buffer.alloc(length);
    readSync(fd, buffer, 0, length, size - length);
    return buffer
      .toString('utf8')
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l !== '')
      .slice(-lines)
      .join(' / ')
      .slice(-600);
  } finally {
    closeSync(fd);
  }
}
