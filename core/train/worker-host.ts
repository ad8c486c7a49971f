// Runs in: the engine. Trains a candidate in a worker process of its own and always ends with a
// CandidateResult: a crash, an out-of-memory death or a cancel becomes a failed candidate with its
// reason (worst f1, real f2), and the engine carries on. The worker's stdout and stderr go to
// worker.log in the candidate's folder; the end of stderr explains a crash.
import { fork, type Serializable } from 'node:child_process';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { ErrorData } from '../base/errors.ts';
import { countParams } from '../nn/param-count.ts';
import type { BackendChoice } from './backend.ts';
import {
  outputChannels,
  type CandidateResult,
  type EpochRecord,
  type TrainEvent,
  type TrainJob,
} from './job.ts';
import { computeObjectives, worstF1 } from './objectives.ts';
import type { HostMessage, WorkerHandle, WorkerMessage } from './protocol.ts';
import { pipeWorkerOutput } from './worker-output.ts';

const ENTRY = fileURLToPath(new URL('./worker-entry.ts', import.meta.url));
const TSX_LOADER = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
const STDERR_TAIL = 4000;

/**
 * A worker under child_process.fork, running a TypeScript entry through tsx (the training worker here, the
 * prediction worker for core/service/review-predictions.ts). `detached` puts it in a process group of its
 * own, so a terminal's Ctrl-C reaches only its parent, which then stops it; it still ends with the parent,
 * whose IPC channel closes.
 */
export function forkWorker<ToWorker extends Serializable, FromWorker>(
  entry: string,
  logFile?: string,
  options: { detached?: boolean } = {},
): WorkerHandle<ToWorker, FromWorker> {
  const child = fork(entry, [], {
    execArgv: ['--import', TSX_LOADER],
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    env: process.env,
    detached: options.detached ?? false,
  });
  const output = pipeWorkerOutput(child.stdout, child.stderr, logFile);
  child.on('close', () => output.endLog());
  let ended: [number | null, NodeJS.Signals | null] | null = null;
  const exitListeners: ((code: number | null, signal: NodeJS.Signals | null) => void)[] = [];
  const end = (code: number | null, signal: NodeJS.Signals | null): void => {
    if (ended) return;
    ended = [code, signal];
    for (const listener of exitListeners) listener(code, signal);
  };
  child.once('exit', end);
  // Node reports a fork that could not start (EAGAIN, ENOMEM) and a message sent as the channel closes as
  // 'error' events, which would end the engine if nobody listened. A fork that never started never exits,
  // so it ends here; after any other error its 'exit' still follows.
  child.on('error', () => {
    if (child.pid !== undefined) return;
    output.endLog();
    end(null, null);
  });
  return {
    pid: child.pid,
    send: (m) => {
      if (child.connected) child.send(m);
    },
    onMessage: (listener) => child.on('message', (m) => listener(m as FromWorker)),
    onExit: (listener) => {
      if (ended) listener(...ended);
      else exitListeners.push(listener);
    },
    onStderr: output.onStderr,
    kill: () => {
      child.kill('SIGKILL');
    },
  };
}

export function forkTrainingWorker(logFile?: string, options: { detached?: boolean } = {}): WorkerHandle {
  return forkWorker<HostMessage, WorkerMessage>(ENTRY, logFile, options);
}

export interface WorkerRun {
  readonly pid: number | undefined;
  /** Never rejects: every ending is a CandidateResult. */
  readonly result: Promise<CandidateResult>;
  /** Kills the worker; the result is a failed candidate with code 'cancelled'. */
  cancel(): void;
}

export interface WorkerOptions {
  onEvent?: (event: TrainEvent) => void;
  onBackend?: (choice: BackendChoice) => void;
  /** Starts the worker process; Electron passes its utilityProcess adapter. */
  spawn?: () => WorkerHandle;
  /** Continue from the checkpoint in job.outDir when it was made for this job (else start afresh). */
  resume?: boolean;
}

export function trainInWorker(job: TrainJob, options: WorkerOptions = {}): WorkerRun {
  const started = Date.now();
  const handle = options.spawn ? options.spawn() : forkTrainingWorker(join(job.outDir, 'worker.log'));
  const epochs: EpochRecord[] = [];
  let position = 'before the first epoch';
  /** Epochs whose checkpoint is on disk (the worker writes it before it reports the epoch). */
  let checkpointed = 0;
  let backend = 'unknown';
  let stderr = '';
  let final: CandidateResult | undefined;
  let error: ErrorData | undefined;
  let cancelled = false;

  handle.onStderr((text) => {
    stderr = (stderr + text).slice(-STDERR_TAIL);
  });
  handle.onMessage((m) => {
    if (m.type === 'backend') {
      backend = m.choice.backend;
      options.onBackend?.(m.choice);
    } else if (m.type === 'event') {
      if (m.event.type === 'started') checkpointed = m.event.resumedEpochs ?? 0;
      if (m.event.type === 'epoch') {
        epochs.push(m.event.record);
        checkpointed = m.event.record.epoch + 1;
      }
      if (m.event.type === 'step') {
        position = `in epoch ${m.event.epoch + 1} of ${job.settings.epochs} (step ${m.event.step + 1} of ${m.event.steps})`;
      }
      if (m.event.type === 'preparing') position = 'while preparing the cases';
      options.onEvent?.(m.event);
    } else if (m.type === 'result') final = m.result;
    else if (m.type === 'error') error = m.error;
  });
  const result = new Promise<CandidateResult>((resolve) => {
    handle.onExit((code, signal) => {
      if (final) return resolve(final);
      const reason: ErrorData = cancelled
        ? { code: 'cancelled', message: `Training was cancelled ${position}.` }
        : (error ?? crashReason(code, signal, stderr, position));
      if (checkpointed > 0 && (cancelled || reason.code === 'worker_crashed')) {
        reason.message +=
          ` The checkpoint of epoch ${checkpointed} is kept in ${job.outDir}: resuming the training continues ` +
          `from there.`;
      }
      resolve(failedResult(job, reason, epochs, backend, (Date.now() - started) / 1000));
    });
  });
  handle.send({ type: 'train', job, ...(options.resume && { resume: true }) });
  return {
    pid: handle.pid,
    result,
    cancel() {
      cancelled = true;
      handle.kill();
    },
  };
}

function crashReason(
  code: number | null,
  signal: string | null,
  stderr: string,
  position: string,
): ErrorData {
  if (/heap out of memory|Reached heap limit|Allocation failed/i.test(stderr)) {
    return {
      code: 'out_of_memory',
      message:
        `The training worker ran out of memory ${position}. Choose a smaller patch or batch, or a genome with ` +
        'fewer filters or cells.',
    };
  }
  const lastLine = stderr
    .trim()
    .split('\n')
    .filter((l) => l.trim() !== '')
    .pop();
  const how = signal ? `was killed (signal ${signal})` : `exited with code ${code}`;
  const hint =
    signal === 'SIGKILL'
      ? ' If nobody stopped it, the system probably ran out of memory (its out-of-memory killer sends SIGKILL).'
      : lastLine
        ? ` Its last message: ${lastLine}`
        : '';
  return { code: 'worker_crashed', message: `The training worker ${how} ${position}.${hint}` };
}

export function failedResult(
  job: TrainJob,
  reason: ErrorData,
  epochs: EpochRecord[],
  backend: string,
  seconds: number,
): CandidateResult {
  const classes = job.plan.labels.length;
  const params = countParams(job.genome, { inChannels: 1, classes: outputChannels(job.plan.head, classes) });
  const objectives = computeObjectives(epochs, params, job.settings.objectives);
  return {
    status: 'failed',
    reason,
    f1: worstF1(job.settings.objectives),
    f2: objectives.f2,
    params,
    bestEpoch: objectives.bestEpoch,
    epochsRun: epochs.length,
    valDice: epochs[objectives.bestEpoch]?.valDice ?? {},
    valLoss: objectives.valLoss,
    trainLoss: objectives.trainLoss,
    backend,
    seconds,
    outDir: job.outDir,
  };
}
