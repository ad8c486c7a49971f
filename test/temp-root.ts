// Runs in: vitest's main process, once per test run (globalSetup). Every test process, and every process
// those start (training workers, `emonas serve`, Chromium, Slurm job steps), makes its temporary folders
// under one root for this run, removed when the run ends, so no suite leaves folders behind in /tmp.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export default function setup(): () => void {
  const root = mkdtempSync(join(tmpdir(), 'emonas-tests-'));
  // Test processes are forked after this and inherit the environment; os.tmpdir() reads TMPDIR.
  process.env.TMPDIR = root;
  return () => rmSync(root, { recursive: true, force: true });
}
