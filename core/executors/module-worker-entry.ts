// Runs in: a module worker process (forked by module-worker.ts). Imports the module the engine names,
// evaluates the one task it is sent and replies with the outcome; a throw becomes a failed outcome. It
// stops when the engine goes away (core/base/parent-watch.ts), so a killed engine leaves no workers behind.
import { pathToFileURL } from 'node:url';
import { toErrorData } from '../base/errors.ts';
import { watchParent } from '../base/parent-watch.ts';
import type { EvaluationOutcome } from '../search/protocol.ts';
import type { ModuleWorkerReply, ModuleWorkerRequest } from './module-worker.ts';

const abort = new AbortController();
watchParent(() => {
  abort.abort();
  process.exit(1);
});

process.once('message', (message) => {
  void (async () => {
    const request = message as ModuleWorkerRequest;
    let outcome: EvaluationOutcome;
    try {
      const module = (await import(pathToFileURL(request.module).href)) as Record<string, unknown>;
      const evaluate = module[request.export];
      if (typeof evaluate !== 'function') {
        throw new Error(
          `${request.module} exports no function ${request.export} to evaluate candidates with.`,
        );
      }
      outcome = (await evaluate(request.task, abort.signal)) as EvaluationOutcome;
    } catch (err) {
      const data = toErrorData(err);
      outcome = { status: 'failed', code: data.code, reason: data.message };
    }
    const reply: ModuleWorkerReply = { outcome };
    process.send?.(reply, undefined, {}, () => process.exit(0));
  })();
});
