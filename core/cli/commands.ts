// Runs in: the emonas command's process. The table of subcommands; each lives in a file of its own.
import type { Command } from './command.ts';
import { datasetCommand } from './cmd-dataset.ts';
import { evaluateCommand } from './cmd-evaluate.ts';
import { serveCommand } from './cmd-serve.ts';
import { trainCommand } from './cmd-train.ts';
import { predictCommand } from './cmd-predict.ts';
import { exportCommand } from './cmd-export.ts';
import { doctorCommand } from './cmd-doctor.ts';
import { workerCommand } from './cmd-worker.ts';
import { searchCommand } from './cmd-search.ts';
import { resumeCommand } from './cmd-resume.ts';
import { frontCommand } from './cmd-front.ts';
import { runsCommand } from './cmd-runs.ts';
import { finalizeCommand } from './cmd-finalize.ts';
import { demoCommand } from './cmd-demo.ts';
import { evaluateTestCommand } from './cmd-evaluate-test.ts';
import { applyCommand } from './cmd-apply.ts';

export const commands: Command[] = [
  datasetCommand,
  evaluateCommand,
  serveCommand,
  trainCommand,
  predictCommand,
  exportCommand,
  doctorCommand,
  workerCommand,
  searchCommand,
  resumeCommand,
  frontCommand,
  runsCommand,
  finalizeCommand,
  evaluateTestCommand,
  applyCommand,
  demoCommand,
];
