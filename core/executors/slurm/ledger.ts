// Runs in: the engine. The Slurm executor's own journal on shared storage (ledger.jsonl): every batch is
// written down before sbatch runs and its job id right after, with the array index of each candidate, and
// every cancel this coordinator made. Replaying it tells a restarted coordinator which job holds which
// candidate now (after retries too), so it reattaches instead of submitting again. A batch whose job id
// never got written (killed during sbatch) is found again by its comment in squeue.
import { closeSync, existsSync, fsyncSync, openSync, readFileSync, writeSync } from 'node:fs';

export interface BatchTask {
  id: string;
  index: number;
  fingerprint: string;
  /** 0 for a submission by the search, n for its n-th resubmission by the executor. */
  attempt: number;
  specPath: string;
  resultPath: string;
  /** Why the previous attempt was resubmitted. */
  after?: string;
}

export type LedgerEvent =
  | { t: 'batch'; batch: string; tasks: BatchTask[]; at: string }
  | { t: 'submitted'; batch: string; jobId: string; at: string }
  | { t: 'cancelled'; ids: string[]; at: string };

export interface Placement {
  task: BatchTask;
  batch: string;
  /** Null until sbatch's answer was written down. */
  jobId: string | null;
  /** Cancelled by a coordinator after this placement. */
  cancelled: boolean;
}

export class Ledger {
  private readonly latest = new Map<string, Placement>();

  constructor(readonly path: string) {
    if (!existsSync(path)) return;
    const lines = readFileSync(path, 'utf8').split('\n');
    for (const line of lines) {
      // A torn last line (the coordinator died mid-write) carries nothing that was acted on.
      let event: LedgerEvent;
      try {
        event = JSON.parse(line) as LedgerEvent;
      } catch {
        continue;
      }
      this.apply(event);
    }
  }

  append(event: LedgerEvent): void {
    const fd = openSync(this.path, 'a');
    try {
      writeSync(fd, JSON.stringify(event) + '\n');
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    this.apply(event);
  }

  placement(id: string): Placement | undefined {
    return this.latest.get(id);
  }

  /** Batches whose job id is unknown: sbatch may or may not have taken them. */
  unconfirmedBatches(): string[] {
    const batches = new Set<string>();
    for (const p of this.latest.values()) if (p.jobId === null) batches.add(p.batch);
    return [...batches];
  }

  private apply(event: LedgerEvent): void {
    if (event.t === 'batch') {
      for (const task of event.tasks) {
        this.latest.set(task.id, { task, batch: event.batch, jobId: null, cancelled: false });
      }
    } else if (event.t === 'submitted') {
      for (const p of this.latest.values()) if (p.batch === event.batch) p.jobId = event.jobId;
    } else {
      for (const id of event.ids) {
        const p = this.latest.get(id);
        if (p) p.cancelled = true;
      }
    }
  }
}
