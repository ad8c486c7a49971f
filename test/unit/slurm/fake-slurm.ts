// Runs in: a test process. A stand-in for Slurm's commands, for the executor's unit tests: bash scripts in a
// folder given to the executor as slurmBin. sbatch hands out job ids 100, 101, ... and keeps each script it
// was given; squeue prints whatever rows the test set (as `squeue --Format` with `|` separators would);
// scancel and scontrol record their arguments. A file `<command>.fail` makes that command fail with the
// file's text.
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface FakeRow {
  key: string;
  jobId?: string;
  state: string;
  reason?: string;
  /** Wait status as squeue prints it (exit code << 8 | signal). */
  exit?: number;
  restarts?: number;
  comment?: string;
}

/**
 * Writes `dir`/bin, an executable bash script per Slurm command (`scripts` gets the state folder and
 * returns each command's body), and `dir`/state for what the commands keep.
 */
export function writeFakeCommands(
  dir: string,
  scripts: (state: string) => Record<string, string>,
): { bin: string; state: string } {
  const bin = join(dir, 'bin');
  const state = join(dir, 'state');
  mkdirSync(bin, { recursive: true });
  mkdirSync(state, { recursive: true });
  for (const [name, body] of Object.entries(scripts(state))) {
    const path = join(bin, name);
    writeFileSync(path, `#!/bin/bash\n${body}\n`);
    chmodSync(path, 0o755);
  }
  return { bin, state };
}

export class FakeSlurm {
  readonly bin: string;
  private readonly state: string;

  constructor(dir: string) {
    ({ bin: this.bin, state: this.state } = writeFakeCommands(dir, (s) => FakeSlurm.scripts(s)));
  }

  private static scripts(s: string): Record<string, string> {
    const fail = (name: string): string =>
      `if [ -f '${s}/${name}.fail' ]; then cat '${s}/${name}.fail' >&2; exit 1; fi`;
    return {
      sbatch: `${fail('sbatch')}
id=$(cat '${s}/next-id' 2>/dev/null || echo 100)
echo $((id + 1)) > '${s}/next-id'
script="\${@: -1}"
cp "$script" '${s}/'"job-$id.sbatch"
echo "$script" >> '${s}/sbatch.log'
echo "$id"`,
      squeue: `${fail('squeue')}
echo "$*" >> '${s}/squeue.log'
cat '${s}/queue.txt' 2>/dev/null || true`,
      scancel: `${fail('scancel')}
echo "$*" >> '${s}/scancel.log'`,
      scontrol: `echo "$*" >> '${s}/scontrol.log'
echo "MaxArraySize            = $(cat '${s}/max-array' 2>/dev/null || echo 1001)"`,
    };
  }

  /** The rows squeue prints from now on. */
  setQueue(rows: FakeRow[]): void {
    const lines = rows.map((r) =>
      [
        r.key,
        r.jobId ?? r.key.replace('_', '0'),
        r.state,
        r.reason ?? 'None',
        r.exit ?? 0,
        r.restarts ?? 0,
        r.comment ?? '',
      ]
        .map((v) => `${v}|`)
        .join(''),
    );
    writeFileSync(join(this.state, 'queue.txt'), lines.join('\n') + (lines.length ? '\n' : ''));
  }

  setMaxArraySize(n: number): void {
    writeFileSync(join(this.state, 'max-array'), `${n}\n`);
  }

  failing(command: 'sbatch' | 'squeue' | 'scancel', message: string | null): void {
    const path = join(this.state, `${command}.fail`);
    if (message === null) rmSync(path, { force: true });
    else writeFileSync(path, message + '\n');
  }

  /** Scripts given to sbatch, in order. */
  submitted(): string[] {
    return this.lines('sbatch.log');
  }

  /** The script sbatch received as job `id`. */
  script(id: number): string {
    return readFileSync(join(this.state, `job-${id}.sbatch`), 'utf8');
  }

  cancels(): string[] {
    return this.lines('scancel.log');
  }

  squeueCalls(): number {
    return this.lines('squeue.log').length;
  }

  private lines(file: string): string[] {
    const path = join(this.state, file);
    return existsSync(path) ? readFileSync(path, 'utf8').split('\n').filter(Boolean) : [];
  }
}
