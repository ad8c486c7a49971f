// Runs in: a Slurm job step (the emonas command's process, started by the job script). `emonas worker`:
// evaluates one candidate of a search running on a cluster. SIGTERM (time limit, preemption, scancel) and
// SIGUSR1 (Slurm's warning before the time limit) stop it after the last checkpoint, with exit status
// 128 + signal, so a requeued or resubmitted task resumes where it stopped.
import { constants } from 'node:os';
import { EmonasError } from '../base/errors.ts';
import { runWorker } from '../service/worker.ts';
import { parse, requireOption, type Command } from './command.ts';

const usage = `Usage: emonas worker --candidate <file>

Evaluates one candidate of a search whose coordinator runs elsewhere (the Slurm executor writes the
candidate file and the job script that runs this command). Writes the candidate's result next to its
checkpoint in the candidate's folder, atomically; does nothing when the result is there already. Prints
its progress on stdout, which Slurm keeps in the task's log.

On SIGTERM or SIGUSR1 it stops after saving its checkpoint and exits with 128 + the signal's number
(143, 138); the next run of the task resumes from the checkpoint.

Exit status: 0 when the result was written (also for a candidate that failed: the failure is its
result), 128 + signal when stopped, 1 or 2 when the candidate file cannot be used.`;

const STOP_SIGNALS = ['SIGTERM', 'SIGUSR1', 'SIGINT'] as const;

export const workerCommand: Command = {
  name: 'worker',
  summary: 'evaluate one candidate in a cluster job (started by the Slurm executor)',
  usage,
  async run(argv) {
    const { values, positionals } = parse('worker', argv, { candidate: { type: 'string' } }, false);
    if (positionals.length > 0)
      throw new EmonasError('bad_request', 'emonas worker takes no positional arguments');
    const candidate = requireOption('worker', values.candidate, '--candidate');
    const log = (line: string): void => {
      process.stdout.write(`${new Date().toISOString()} emonas worker: ${line}\n`);
    };
    const stop = new AbortController();
    let received: (typeof STOP_SIGNALS)[number] | null = null;
    const onSignal = (name: (typeof STOP_SIGNALS)[number]) => () => {
      if (received !== null) return;
      received = name;
      log(`Received ${name}; stopping after the last checkpoint.`);
      stop.abort();
    };
    const listeners = STOP_SIGNALS.map((name) => [name, onSignal(name)] as const);
    for (const [name, listener] of listeners) process.on(name, listener);
    try {
      const report = await runWorker({ candidate }, { signal: stop.signal, log });
      if (report.status === 'done') return 0;
      return 128 + constants.signals[received ?? 'SIGTERM'];
    } finally {
      for (const [name, listener] of listeners) process.off(name, listener);
    }
  },
};
