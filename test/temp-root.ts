// Runs in: vitest's main process, once per test run (globalSetup). Every test process, and every process
// those start (training workers, `emonas serve`, Chromium, Slurm job steps), makes its temporary folders
// under one root for this run, removed when the run ends, so no suite leaves folders behind in /tmp.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export default function setup(): () => void {
  // vitest runs a global set-up once for the root and once per project that extends it: one root only.
  if (process.env.EMONAS_TEST_TMP !== undefined) return () => undefined;
  // Short on purpose: Chromium puts a Unix socket under it, and socket paths end at 107 bytes.
  const root = mkdtempSync(join(tmpdir(), 'et-'));
  process.env.EMONAS_TEST_TMP = root;
  // Test processes are forked after this and inherit the environment; os.tmpdir() reads TMPDIR.
  process.env.TMPDIR = root;
  return () => rmSync(root, { recursive: true, force: true });
}
