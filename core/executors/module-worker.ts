// Runs in: the engine. A launcher for the worker pool that evaluates a task in a fresh process by calling
// a function `(task, signal) => outcome` exported by a module (custom problems, the executor contract
// tests): the same shape the in-process executor and the Slurm module evaluator call.
import { fork } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { EvaluationTask } from './executor.ts';
import type { EvaluationOutcome } from '../search/protocol.ts';
import type { EvaluationLauncher, RunningEvaluation } from './worker-pool.ts';

const ENTRY = fileURLToPath(new URL('./module-worker-entry.ts', import.meta.url));
const TSX_LOADER = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
const STDERR_TAIL = 2000;

/** Messages between the engine and a module worker. */
export type ModuleWorkerRequest = { module: string; export: string; task: EvaluationTask };
export type ModuleWorkerReply = { outcome: EvaluationOutcome };

export function moduleLauncher(module: string, exportName: string): EvaluationLauncher {
  return (task) => startModuleWorker({ module, export: exportName, task });
}

function startModuleWorker(request: ModuleWorkerRequest): RunningEvaluation {
  // Its own process group: Ctrl-C in a terminal reaches the engine, which stops the search and then kills
  // its workers, rather than every worker dying at once and being recorded as a crashed candidate.
  const child = fork(ENTRY, [], {
    execArgv: ['--import', TSX_LOADER],
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    serialization: 'advanced',
    detached: true,
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString('utf8')).slice(-STDERR_TAIL);
  });
  let reply: ModuleWorkerReply | undefined;
  child.on('message', (m) => {
    reply = m as ModuleWorkerReply;
  });
  const outcome = new Promise<EvaluationOutcome>((resolve) => {
    child.once('exit', (code, signal) => {
      if (reply) return resolve(reply.outcome);
      const how = signal ? `was killed (signal ${signal})` : `exited with code ${code}`;
      const last = stderr.trim().split('\n').pop();
      resolve({
        status: 'failed',
        code: 'worker_crashed',
        reason: `The worker evaluating candidate ${request.task.id} ${how}.${last ? ` Its last message: ${last}` : ''}`,
      });
    });
    child.once('error', (err) =>
      resolve({
        status: 'failed',
        code: 'worker_crashed',
        reason: `The worker for candidate ${request.task.id} could not start: ${err.message}`,
      }),
    );
  });
  child.send(request);
  return {
    pid: child.pid,
    outcome,
    cancel: () => {
      child.kill('SIGKILL');
    },
  };
}
