// Runs in: the surrogate's helper process (forked by search-surrogate.ts). Fits and queries the random
// forest for the engine, one request at a time, keeping the last fit; it exits with the engine.
import { watchParent } from '../base/parent-watch.ts';
import { RandomForestSurrogate } from '../search/surrogate.ts';
import type { PredictRequest } from '../search/protocol.ts';
import type { SurrogateReply } from './search-surrogate.ts';

const surrogate = new RandomForestSurrogate();
watchParent(() => process.exit(0));
process.on('message', (message) => {
  let reply: SurrogateReply;
  try {
    reply = { ok: true, answer: surrogate.predict(message as PredictRequest) };
  } catch (err) {
    reply = { ok: false, message: err instanceof Error ? err.message : String(err) };
  }
  process.send?.(reply);
});
