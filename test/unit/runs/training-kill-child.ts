// Child process of training-kill-resume.test.ts: starts (or, when the run folder has run.json, resumes) a
// tiny search over a real dataset with real training. Prints "completed <id>" once a candidate's result is
// journaled and "training <id>" at its first training step, so the test can kill it mid-training.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { resume, startSearch, type SearchProgress } from '../../../core/service/search.ts';
import type { StudyEvent } from '../../../core/runs/study.ts';

const [runDir, configJson, problemJson] = process.argv.slice(2) as [string, string, string];
const stepping = new Set<string>();
const onEvent = (event: StudyEvent): void => {
  if (event.type === 'candidate.completed') process.stdout.write(`completed ${event.id}\n`);
};
const onProgress = (progress: SearchProgress): void => {
  if (progress.type === 'training' && progress.event.type === 'step' && !stepping.has(progress.id)) {
    stepping.add(progress.id);
    process.stdout.write(`training ${progress.id}\n`);
  }
};
const summary = existsSync(join(runDir, 'run.json'))
  ? await resume({ runDir }, { onEvent, onProgress })
  : await startSearch(
      { runDir, config: JSON.parse(configJson), problem: JSON.parse(problemJson), workers: 1 },
      { onEvent, onProgress },
    );
process.stdout.write(`${summary.status}\n`);
