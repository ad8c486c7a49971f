// Child process of kill-resume.test.ts: starts (or, when the run folder already has run.json, resumes) a
// formula-problem search; prints "ready" once loaded and "completed" after each candidate's result is
// journaled, so the test can kill it at a random point of the run, whatever the machine's speed.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { StudyEvent } from '../../../core/runs/study.ts';
import { resume, startSearch } from '../../../core/service/search.ts';

const [runDir, configJson, problemJson] = process.argv.slice(2) as [string, string, string];
process.stdout.write('ready\n');
const onEvent = (event: StudyEvent): void => {
  if (event.type === 'candidate.completed') process.stdout.write('completed\n');
};
const summary = existsSync(join(runDir, 'run.json'))
  ? await resume({ runDir }, { onEvent })
  : await startSearch(
      { runDir, config: JSON.parse(configJson), problem: JSON.parse(problemJson) },
      { onEvent },
    );
process.stdout.write(`${summary.status}\n`);
