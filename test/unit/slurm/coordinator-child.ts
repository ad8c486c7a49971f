// Runs in: a child process of cluster.test.ts (search-scenario.ts): the search coordinator. Starts a
// formula-problem search whose candidates go to Slurm, or resumes it when the run folder already holds a run
// (reopening its Slurm setup), and prints one line per event so the test can act at the right moments and
// kill it mid-generation.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { SlurmConfig } from '../../../core/executors/slurm/config.ts';
import { reopenSlurmExecutor, slurmExecutorForRun } from '../../../core/executors/slurm/create.ts';
import type { EvaluatorSpec } from '../../../core/executors/slurm/worker-files.ts';
import { resume, startSearch } from '../../../core/service/search.ts';

const [runDir, configJson, slurmJson, evaluatorJson] = process.argv.slice(2) as [
  string,
  string,
  string,
  string,
];
const say = (line: string): void => void process.stdout.write(`${line}\n`);
const log = (line: string): void => say(`slurm: ${line}`);
const onEvent = (event: { type: string; id?: string }): void =>
  say(`event ${event.type} ${event.id ?? ''}`.trim());

const resuming = existsSync(join(runDir, 'run.json'));
say(resuming ? 'ready resume' : 'ready start');
const summary = resuming
  ? await resume({ runDir }, { executor: reopenSlurmExecutor(runDir, log) ?? undefined, onEvent })
  : await startSearch(
      { runDir, config: JSON.parse(configJson), problem: { kind: 'formula' } },
      {
        executor: slurmExecutorForRun({
          runDir,
          slurmConfig: JSON.parse(slurmJson) as SlurmConfig,
          evaluator: JSON.parse(evaluatorJson) as EvaluatorSpec,
          log,
        }),
        onEvent,
      },
    );
say(`${summary.status} ${summary.evaluated}`);
