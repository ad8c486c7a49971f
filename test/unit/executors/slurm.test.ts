// Runs in: a test process. The executor contract suite against the Slurm executor on a fake one-node Slurm
// that runs each array task's `emonas worker` here (test/unit/slurm/fake-cluster.ts), so the contract holds
// for Slurm on every machine; cluster.test.ts runs the same suite on a real cluster where one is up.
import { afterAll } from 'vitest';
import { tempDirs } from '../../fixtures/temp-dir.ts';
import { testConfig } from '../slurm/availability.ts';
import { FakeCluster } from '../slurm/fake-cluster.ts';
import { slurmExecutorContract } from '../slurm/slurm-contract.ts';

const temp = tempDirs('slurm-contract');
const cluster = new FakeCluster(temp.make());
afterAll(async () => {
  await cluster.shutdown();
  temp.cleanup();
});

slurmExecutorContract(
  'slurm on a fake one-node cluster',
  () => ({ ...testConfig({ pollSeconds: 0.2 }), slurmBin: cluster.bin }),
  temp.make,
);
