import { InProcessExecutor } from '../../../core/executors/in-process.ts';
import { executorContract } from './contract.ts';
import { probeEvaluate } from './probe-evaluator.ts';

executorContract('in-process, one slot', { create: async () => new InProcessExecutor(probeEvaluate) });
executorContract('in-process, three slots', {
  create: async () => new InProcessExecutor(probeEvaluate, { slots: 3 }),
});
