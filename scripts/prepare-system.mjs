#!/usr/bin/env node
// Runs in: a plain Node process: the test command (scripts/test.mjs) before its suites, or by itself
// (`node scripts/prepare-system.mjs` installs and reports, and leaves a cluster it started running). The
// suites need more than node_modules: Debian's Chromium for the end-to-end tests, Python peers
// (/usr/bin/python3 with nibabel, scipy, PyTorch and ONNX) to check our results against, and a one-node
// Slurm for the cluster suites. As root with apt-get, whatever is missing is installed and Slurm is started
// (scripts/slurm/up.sh); otherwise this says exactly what to install and run, and the tests that need it
// say so when they fail (Python, Chromium) or are skipped (Slurm, which needs root to run here).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const PYTHON = '/usr/bin/python3';
const CHROMIUM = '/usr/bin/chromium';
const APT_LOG = join(ROOT, 'test-artifacts', 'apt-get.log');

/** What the suites need from Debian: the package, what it is for, and the Python module that shows it. */
const PACKAGES = [
  { pkg: 'chromium', usedBy: 'the end-to-end tests (test/e2e)' },
  { pkg: 'python3-nibabel', module: 'nibabel', usedBy: 'the NIfTI and export checks' },
  { pkg: 'python3-scipy', module: 'scipy', usedBy: 'the metrics reference' },
  { pkg: 'python3-torch', module: 'torch', usedBy: 'the PyTorch reference and export checks' },
  { pkg: 'python3-onnx', module: 'onnx', usedBy: 'the ONNX export checks' },
];

const isRoot = process.getuid?.() === 0;
const say = (line) => console.log(`prepare: ${line}`);

/** The packages of PACKAGES whose program or Python module is not there. */
function missingPackages() {
  const modules = PACKAGES.filter((p) => p.module).map((p) => p.module);
  // find_spec looks a module up without importing it (importing torch alone takes seconds).
  const probe = spawnSync(
    PYTHON,
    [
      '-c',
      'import importlib.util, sys; print(" ".join(m for m in sys.argv[1:] if importlib.util.find_spec(m) is None))',
      ...modules,
    ],
    { encoding: 'utf8' },
  );
  const absentModules = probe.status === 0 ? probe.stdout.trim().split(/\s+/).filter(Boolean) : modules;
  return PACKAGES.filter((p) => (p.module ? absentModules.includes(p.module) : !existsSync(CHROMIUM)));
}

function aptGet(args) {
  const r = spawnSync('apt-get', args, {
    encoding: 'utf8',
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  });
  writeFileSync(APT_LOG, `$ apt-get ${args.join(' ')}\n${r.stdout ?? ''}${r.stderr ?? ''}\n`, { flag: 'a' });
  return r.status === 0;
}

function hasAptGet() {
  return spawnSync('apt-get', ['--version'], { stdio: 'ignore' }).status === 0;
}

/** Installs the missing packages where it can; returns (and prints) the lines saying what is still missing. */
export function preparePackages() {
  let missing = missingPackages();
  if (missing.length === 0) return [];
  const names = missing.map((p) => p.pkg);
  if (isRoot && hasAptGet()) {
    mkdirSync(join(ROOT, 'test-artifacts'), { recursive: true });
    const started = Date.now();
    const install = ['install', '-y', '-qq', '--no-install-recommends', ...names];
    // A fresh machine has no package lists yet: update only when the first try fails.
    const ok = aptGet(install) || (aptGet(['update', '-qq']) && aptGet(install));
    missing = missingPackages();
    if (ok && missing.length === 0) {
      say(`installed ${names.join(' ')} with apt-get in ${Math.round((Date.now() - started) / 1000)} s`);
      return [];
    }
    say(`apt-get could not install ${missing.map((p) => p.pkg).join(' ')}; see ${APT_LOG}`);
  }
  const why = isRoot ? 'apt-get is not available' : 'installing needs root';
  const lines = missing.map(
    (p) =>
      `${p.pkg} is missing (${why}), so ${p.usedBy} fail: apt-get install --no-install-recommends ${p.pkg}`,
  );
  if (lines.length > 1) {
    lines.push(
      `all at once, as root: apt-get install --no-install-recommends ${missing.map((p) => p.pkg).join(' ')}`,
    );
  }
  for (const line of lines) say(line);
  return lines;
}

/** idle, mix or alloc: the node takes jobs. */
function slurmReady() {
  const node = hostname().split('.')[0];
  const r = spawnSync('sinfo', ['--noheader', '--nodes', node, '--format', '%t'], {
    encoding: 'utf8',
    timeout: 20_000,
  });
  return r.status === 0 && /^(idle|mix|alloc)/.test(r.stdout.trim());
}

/**
 * Brings the one-node Slurm up when it is not. `env` for the suites: EMONAS_SLURM_REQUIRED=1 where the
 * cluster is up or should have come up, so a cluster that is not up fails the Slurm suites instead of
 * skipping them (test/unit/slurm/availability.ts); `started`: this call started it, stop it afterwards;
 * `missing`: what is missing, also printed.
 */
export function prepareSlurm() {
  const required = { EMONAS_SLURM_REQUIRED: '1' };
  if (slurmReady()) return { env: required, started: false, missing: [] };
  if (!isRoot) {
    const line =
      'Slurm is not running and starting it needs root, so the Slurm suites are skipped: as root, scripts/slurm/up.sh installs slurm-wlm and munge and starts a one-node cluster';
    say(line);
    return { env: {}, started: false, missing: [line] };
  }
  const r = spawnSync(join(ROOT, 'scripts', 'slurm', 'up.sh'), [], { stdio: 'inherit' });
  if (r.status === 0) return { env: required, started: true, missing: [] };
  const line = 'scripts/slurm/up.sh did not bring Slurm up (see above), so the Slurm suites fail';
  say(line);
  return { env: required, started: false, missing: [line] };
}

/** Stops the cluster prepareSlurm started, quietly, so the test command's summary stays its last line. */
export function stopSlurm() {
  spawnSync(join(ROOT, 'scripts', 'slurm', 'down.sh'), [], { stdio: 'ignore' });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const missing = [...preparePackages(), ...prepareSlurm().missing];
  if (missing.length === 0) say('Chromium, the Python peers and Slurm are ready');
  process.exit(missing.length === 0 ? 0 : 1);
}
