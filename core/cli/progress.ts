// Runs in: the emonas command's process. A progress bar with ETA for long jobs; on a terminal it redraws
// one line, elsewhere (CI logs, pipes) it prints a line at most every few seconds, and at once when a job
// announces a new phase.

export interface ProgressOptions {
  label: string;
  total: number;
  stream?: NodeJS.WriteStream;
  /** Minimum milliseconds between lines when not on a terminal. */
  quietInterval?: number;
  /**
   * What the whole job is expected to take, in seconds, when that is known before any of it is done (a run
   * with a time budget): the ETA until the first item finishes, which would otherwise be unknown.
   */
  expectedSeconds?: number;
  /**
   * A time budget that stops the job by then at the latest (a search's): the ETA never runs past it, and it
   * is the ETA until the first item finishes.
   */
  budgetSeconds?: number;
  /** When the job began (Date.now()), if before the bar was made: elapsed time and the budget count from it. */
  startedAt?: number;
}

export class ProgressBar {
  private readonly start: number;
  private lastPrint = 0;
  private done = 0;
  private readonly stream: NodeJS.WriteStream;
  private readonly tty: boolean;

  constructor(private readonly options: ProgressOptions) {
    this.start = options.startedAt ?? Date.now();
    this.stream = options.stream ?? process.stderr;
    this.tty = Boolean(this.stream.isTTY);
  }

  update(done: number, detail = ''): void {
    this.done = done;
    const now = Date.now();
    const interval = this.tty ? 100 : (this.options.quietInterval ?? 5000);
    if (now - this.lastPrint < interval && done < this.options.total) return;
    this.lastPrint = now;
    this.draw(detail);
  }

  /**
   * Prints now whatever the quiet interval: a job entering a phase that may not update again for minutes (a
   * final training after a search) would otherwise have its news dropped for having come too soon.
   */
  announce(detail: string): void {
    this.lastPrint = Date.now();
    this.draw(detail);
  }

  finish(detail = ''): void {
    this.done = this.options.total;
    this.draw(detail);
    if (this.tty) this.stream.write('\n');
  }

  private draw(detail: string): void {
    const { total, label } = this.options;
    const fraction = total > 0 ? Math.min(1, this.done / total) : 1;
    const width = 24;
    const filled = Math.round(fraction * width);
    const bar = '#'.repeat(filled) + '-'.repeat(width - filled);
    const elapsed = (Date.now() - this.start) / 1000;
    const line = `${label} [${bar}] ${this.done}/${total} ${formatSeconds(elapsed)} elapsed, ETA ${this.eta(fraction, elapsed)}${detail ? '  ' + detail : ''}`;
    if (this.tty) this.stream.write(`\r\x1b[2K${line}`);
    else this.stream.write(line + '\n');
  }

  private eta(fraction: number, elapsed: number): string {
    if (fraction >= 1) return formatSeconds(0);
    const { expectedSeconds, budgetSeconds } = this.options;
    const left = (total: number | undefined): number =>
      total === undefined ? Number.POSITIVE_INFINITY : Math.max(0, total - elapsed);
    const estimate = fraction > 0 ? (elapsed / fraction) * (1 - fraction) : left(expectedSeconds);
    const eta = Math.min(estimate, left(budgetSeconds));
    return Number.isFinite(eta) ? formatSeconds(eta) : 'unknown';
  }
}

export function formatSeconds(seconds: number): string {
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const r = s % 60;
  return h > 0 ? `${h}h${String(m).padStart(2, '0')}m` : `${m}m${String(r).padStart(2, '0')}s`;
}
