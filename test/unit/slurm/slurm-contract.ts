// Runs in: a test process. The executor contract suite (test/unit/executors/contract.ts) against the
// Slurm executor, every probe task an array task of `emonas worker`: the one set-up of the fake cluster's
// run (test/unit/executors/slurm.test.ts) and the real cluster's (cluster.test.ts).
import { fileURLToPath } from 'node:url';
import type { SlurmConfig } from '../../../core/executors/slurm/config.ts';
import { createSlurmExecutor } from '../../../core/executors/slurm/create.ts';
import type { SlurmExecutor } from '../../../core/executors/slurm/slurm-executor.ts';
import { executorContract } from '../executors/contract.ts';

const PROBE = fileURLToPath(new URL('../executors/probe-evaluator.ts', import.meta.url));

/**
 * `folder` makes a new temporary folder. One state folder serves every executor of the suite, so
 * reattach() finds what an earlier one submitted. Each task starts `emonas worker` through tsx (about two
 * seconds on a loaded machine), so tasks overlap whatever their own delay; the timeout allows for that.
 */
export function slurmExecutorContract(
  name: string,
  config: () => Partial<SlurmConfig>,
  folder: () => string,
): void {
  let stateDir: string | undefined;
  executorContract(name, {
    create: async () =>
      createSlurmExecutor(config(), {
        stateDir: (stateDir ??= folder()),
        jobName: `emonas-contract-${process.pid}`,
        evaluator: { kind: 'module', module: PROBE, export: 'probeEvaluate' },
      }),
    abandon: (executor) => (executor as SlurmExecutor).detach(),
    delayMs: 300,
    timeoutMs: 90_000,
  });
}
