// The executor contract (test/unit/executors/contract.ts) run through the real single-node Slurm: every
// probe task is an array task running `emonas worker` with the probe evaluator module.
import { fileURLToPath } from 'node:url';
import { afterAll } from 'vitest';
import { createSlurmExecutor } from '../../../core/executors/slurm/create.ts';
import { tempDirs } from '../../fixtures/temp-dir.ts';
import { executorContract } from '../executors/contract.ts';
import { describeWithSlurm, testConfig } from './cluster.ts';

const PROBE = fileURLToPath(new URL('../executors/probe-evaluator.ts', import.meta.url));
const temp = tempDirs('slurm-contract');
afterAll(() => temp.cleanup());

describeWithSlurm('Slurm executor', () => {
  // One state folder for every executor of the suite, so reattach() finds what an earlier one submitted.
  const stateDir = temp.make();
  executorContract('slurm', {
    create: async () =>
      createSlurmExecutor(testConfig(), {
        stateDir,
        jobName: `emonas-contract-${process.pid}`,
        evaluator: { kind: 'module', module: PROBE, export: 'probeEvaluate' },
      }),
    delayMs: 1000,
    timeoutMs: 90_000,
  });
});
