// Runs in: a training worker. Serves one training job over a WorkerPort: chooses the backend, trains,
// reports events and the result (and in its log whether it resumed from a checkpoint), and turns any
// failure into error data with a sentence (an exhausted wasm heap or typed-array allocation becomes
// 'out_of_memory').
import { EmonasError, toErrorData, type ErrorData } from '../base/errors.ts';
import { selectBackend } from './backend.ts';
import { loadCanonicalCase } from './case-loader.ts';
import type { TrainEvent } from './job.ts';
import type { WorkerPort } from './protocol.ts';
import { runTraining } from './trainer.ts';

const OUT_OF_MEMORY =
  /out of memory|memory access out of bounds|Array buffer allocation failed|Invalid typed array length|Cannot allocate/i;

export function failureData(err: unknown): ErrorData {
  if (!(err instanceof EmonasError) && err instanceof Error && OUT_OF_MEMORY.test(err.message)) {
    return {
      code: 'out_of_memory',
      message:
        `The network ran out of memory while training (${err.message}). Choose a smaller patch or batch, ` +
        'or a genome with fewer filters or cells.',
    };
  }
  return toErrorData(err);
}

export function serveTraining(port: WorkerPort, exit: (code: number) => void): void {
  const abort = new AbortController();
  let busy = false;
  port.onDisconnect(() => {
    abort.abort();
    exit(1);
  });
  port.onMessage((message) => {
    if (message.type === 'cancel') {
      abort.abort();
      return;
    }
    if (busy) return;
    busy = true;
    void (async () => {
      try {
        const only = process.env.EMONAS_BACKEND;
        const choice = await selectBackend(only ? { only } : {});
        port.send({ type: 'backend', choice });
        const result = await runTraining(message.job, {
          load: loadCanonicalCase,
          backend: choice.backend,
          onEvent: (event) => {
            if (event.type === 'started') logStart(event);
            port.send({ type: 'event', event });
          },
          signal: abort.signal,
          resume: message.resume === true,
        });
        port.send({ type: 'result', result }, () => exit(0));
      } catch (err) {
        port.send({ type: 'error', error: failureData(err) }, () => exit(1));
      }
    })();
  });
}

/**
 * Says in the worker's log (worker.log in the candidate's folder) whether the training continued from a
 * checkpoint, so a folder trained in two goes shows it. stdout, not stderr: stderr's last line explains a
 * crash.
 */
function logStart(event: Extract<TrainEvent, { type: 'started' }>): void {
  if (event.resumedEpochs !== undefined && event.resumedEpochs > 0) {
    process.stdout.write(`Resumed after epoch ${event.resumedEpochs}, from its checkpoint.\n`);
  }
  if (event.checkpointIgnored !== undefined) {
    process.stdout.write(`Started afresh: ${event.checkpointIgnored}\n`);
  }
}
