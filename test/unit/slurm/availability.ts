// Runs in: a test process. Helpers for the suites that need a running Slurm: detection (sinfo answers and
// this node is idle) and the policy for when it is absent. Where the cluster is required (CI=true, or the
// test command's preparation started it or should have: EMONAS_SLURM_REQUIRED=1, scripts/prepare-system.mjs)
// a missing cluster FAILS the suite with a clear message; elsewhere (a machine where starting it needs
// root) the suite is skipped, with the reason in its name, which the test command lists and counts.
import { spawnSync } from 'node:child_process';
import { hostname } from 'node:os';
import { describe, it } from 'vitest';
import type { SlurmConfig } from '../../../core/executors/slurm/config.ts';

export type ClusterStatus = { ready: true } | { ready: false; reason: string };

export function clusterStatus(): ClusterStatus {
  const node = hostname().split('.')[0] ?? hostname();
  const r = spawnSync('sinfo', ['--noheader', '--nodes', node, '--format', '%t'], {
    encoding: 'utf8',
    timeout: 20_000,
  });
  if (r.error && (r.error as NodeJS.ErrnoException).code === 'ENOENT') {
    return { ready: false, reason: 'Slurm is not installed here (no sinfo on the PATH)' };
  }
  const state = (r.stdout ?? '').trim();
  if (r.status !== 0) {
    return {
      ready: false,
      reason: `sinfo cannot reach slurmctld (${(r.stderr ?? '').trim() || `exit ${r.status}`}); start the cluster with scripts/slurm/up.sh`,
    };
  }
  if (!/^(idle|mix|alloc)/.test(state)) {
    return {
      ready: false,
      reason: `node ${node} is "${state || 'not in the cluster'}", not idle; restart the cluster with scripts/slurm/up.sh`,
    };
  }
  return { ready: true };
}

/** describe() when the cluster is ready; otherwise a failing test (where it is required) or a skip. */
export function describeWithSlurm(name: string, body: () => void): void {
  const status = clusterStatus();
  if (status.ready) {
    describe(name, body);
  } else if (process.env.CI === 'true' || process.env.EMONAS_SLURM_REQUIRED === '1') {
    describe(name, () => {
      it('needs a running single-node Slurm cluster', () => {
        throw new Error(
          `${status.reason}. The test command brings it up with scripts/slurm/up.sh as root (see docs/slurm.md).`,
        );
      });
    });
  } else {
    // Skipped, not failed: without root the test command cannot start a cluster here; as root it starts
    // one and sets EMONAS_SLURM_REQUIRED, which takes the failing branch above instead.
    describe.skip(
      `${name} (skipped: ${status.reason}; as root, scripts/slurm/up.sh installs slurm-wlm and munge and starts one)`,
      body,
    );
  }
}

/** The test cluster's settings: short polls, one CPU per task, limits a test can reach. */
export function testConfig(overrides: Partial<SlurmConfig> = {}): Partial<SlurmConfig> {
  return {
    timeLimitMinutes: 5,
    gpusPerTask: 0,
    cpusPerTask: 1,
    maxConcurrent: 2,
    pollSeconds: 0.5,
    maxRetries: 2,
    warningSeconds: 0,
    ...overrides,
  };
}
