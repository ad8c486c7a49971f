#!/usr/bin/env node
// Runs in: a plain Node process. The project's one test command: type check, lint, format check, then the
// vitest suites. Prints a last line `N passed, N failed` that counts every test and every check.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, existsSync } from 'node:fs';

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

let passed = 0;
let failed = 0;
for (const [name, cmd, args] of checks) {
  const r = spawnSync(cmd, args, { stdio: 'inherit' });
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
const r = spawnSync(
  'npx',
  ['vitest', 'run', '--reporter=default', '--reporter=json', `--outputFile.json=${report}`, ...vitestArgs],
  { stdio: 'inherit' },
);
if (existsSync(report)) {
  const json = JSON.parse(readFileSync(report, 'utf8'));
  passed += json.numPassedTests ?? 0;
  failed += json.numFailedTests ?? 0;
  // A file that fails before any test runs (an import error) has no failed test to count: count the file.
  for (const file of json.testResults ?? []) {
    const anyFailed = (file.assertionResults ?? []).some((t) => t.status === 'failed');
    if (file.status === 'failed' && !anyFailed) failed++;
  }
} else {
  failed++;
}
if (r.status !== 0 && failed === 0) failed++;
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
