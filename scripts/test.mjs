#!/usr/bin/env node
// Runs in: a plain Node process. The project's one test command: prepares the system (scripts/prepare-system.mjs:
// Chromium, the Python peers, a one-node Slurm started around the suites), then type check, lint, format
// check and the vitest suites. Lists the skipped tests (each says why in its name) and prints a last line
// `N passed, N failed, N skipped` that counts every test and every check.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { preparePackages, prepareSlurm, stopSlurm } from './prepare-system.mjs';

const vitestArgs = process.argv.slice(2);
const checks =
  vitestArgs.length > 0
    ? []
    : [
        ['typecheck', 'npx', ['tsc', '--noEmit', '-p', 'tsconfig.json']],
        ['typecheck renderer', 'npm', ['run', '--silent', 'typecheck:renderer']],
        ['lint', 'npx', ['eslint', '--max-warnings=0', '.']],
        ['format', 'npx', ['prettier', '--check', '.']],
      ];

// Ctrl-C reaches the running child too: this process outlives it, to stop the cluster and print the summary.
process.on('SIGINT', () => {});
let interrupted = false;

const missing = preparePackages();
let passed = 0;
let failed = 0;
let skipped = 0;
for (const [name, cmd, args] of checks) {
  const r = spawnSync(cmd, args, { stdio: 'inherit' });
  interrupted = r.signal === 'SIGINT' || r.status === 130;
  if (interrupted) break;
  if (r.status === 0) {
    passed++;
    console.log(`check ${name}: passed`);
  } else {
    failed++;
    console.log(`check ${name}: FAILED`);
  }
}

mkdirSync('test-artifacts', { recursive: true });
const report = 'test-artifacts/vitest-report.json';
rmSync(report, { force: true });
// The cluster is started only now, after the checks, and stopped as soon as the suites are done.
const slurm = interrupted ? { env: {}, started: false, missing: [] } : prepareSlurm();
missing.push(...slurm.missing);
const r = interrupted
  ? { status: 130 }
  : spawnSync(
      'npx',
      [
        'vitest',
        'run',
        '--reporter=default',
        '--reporter=json',
        `--outputFile.json=${report}`,
        ...vitestArgs,
      ],
      { stdio: 'inherit', env: { ...process.env, ...slurm.env } },
    );
if (slurm.started) stopSlurm();
if (existsSync(report)) {
  const json = JSON.parse(readFileSync(report, 'utf8'));
  passed += json.numPassedTests ?? 0;
  failed += json.numFailedTests ?? 0;
  for (const file of json.testResults ?? []) {
    const tests = file.assertionResults ?? [];
    // A file that fails before any test runs (an import error) has no failed test to count: count the file.
    if (file.status === 'failed' && !tests.some((t) => t.status === 'failed')) failed++;
    for (const t of tests.filter((t) => ['skipped', 'pending', 'todo'].includes(t.status))) {
      skipped++;
      console.log(`skipped: ${file.name.replace(`${process.cwd()}/`, '')} > ${t.fullName}`);
    }
  }
} else {
  failed++;
}
if (r.status !== 0 && failed === 0) failed++;
for (const line of missing) console.log(`missing: ${line}`);
console.log(`${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(failed === 0 ? 0 : 1);
