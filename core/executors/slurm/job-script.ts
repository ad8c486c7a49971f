// Runs in: the engine. The sbatch script of one batch: a job array whose task i runs `emonas worker` on the
// candidate file <batch folder>/<i>.json, with the lab's resources from the configuration. It uses
// absolute paths to node and to this installation, because a job's environment may lack PATH entries.
import { fileURLToPath } from 'node:url';
import { EmonasError } from '../../base/errors.ts';
import type { SlurmConfig } from './config.ts';

/** The emonas command's entry point in this installation. */
export const EMONAS_ENTRY = fileURLToPath(new URL('../../../bin/emonas.mjs', import.meta.url));

export interface JobScriptInput {
  jobName: string;
  /** Names the batch in the job's comment, so a coordinator that died before noting the job id finds it. */
  batchId: string;
  /** Folder of the candidate files 0.json .. (size - 1).json. */
  batchDir: string;
  size: number;
  /** Slurm's --output pattern for the tasks' logs. */
  logPattern: string;
  config: SlurmConfig;
}

/** Single quotes for bash, which take everything literally. */
export function shellQuote(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}

/** A path in an #SBATCH line: double-quoted (sbatch honours that), with `%` kept literal. */
function directivePath(path: string, pattern: string): string {
  if (/["\\\n\r]/.test(path)) {
    throw new EmonasError(
      'bad_request',
      `Slurm cannot write logs under ${path}: the path holds a quote, backslash or line break. Move the run folder to a plainer path.`,
      { file: path },
    );
  }
  return `"${path.replace(/%/g, '%%')}${pattern}"`;
}

export function jobScript(input: JobScriptInput): string {
  const { config: c } = input;
  const node = c.node ?? process.execPath;
  const slash = input.logPattern.lastIndexOf('/');
  const directives = [
    `--job-name=${input.jobName}`,
    `--array=0-${input.size - 1}%${c.maxConcurrent}`,
    `--output=${directivePath(input.logPattern.slice(0, slash + 1), input.logPattern.slice(slash + 1))}`,
    // Both runs of a requeued task keep their output.
    '--open-mode=append',
    // Node failure and preemption put the task back in the queue instead of failing it.
    '--requeue',
    `--comment=${input.batchId}`,
    `--time=${c.timeLimitMinutes}`,
    `--cpus-per-task=${c.cpusPerTask}`,
  ];
  if (c.gpusPerTask > 0)
    directives.push(`--gres=gpu:${c.gpuType === null ? '' : `${c.gpuType}:`}${c.gpusPerTask}`);
  if (c.memoryGB !== null) directives.push(`--mem=${Math.ceil(c.memoryGB * 1024)}M`);
  if (c.partition !== null) directives.push(`--partition=${c.partition}`);
  if (c.account !== null) directives.push(`--account=${c.account}`);
  if (c.qos !== null) directives.push(`--qos=${c.qos}`);
  // B: signals the batch shell, which exec'ed the worker, so the worker itself gets the warning.
  if (c.warningSeconds > 0) directives.push(`--signal=B:USR1@${c.warningSeconds}`);
  directives.push(...c.extraDirectives.map((d) => d.trim()));
  const candidate = `${shellQuote(`${input.batchDir}/`)}"\${SLURM_ARRAY_TASK_ID}.json"`;
  return [
    '#!/bin/bash',
    ...directives.map((d) => `#SBATCH ${d}`),
    `# Emonas Studio: batch ${input.batchId} of ${input.jobName}, one array task per candidate.`,
    ...c.prologue,
    `exec ${shellQuote(node)} ${shellQuote(EMONAS_ENTRY)} worker --candidate ${candidate}`,
    '',
  ].join('\n');
}
