// Runs in: any process. How the search learns a genome's trainable parameter count (f2 is its natural
// log): an injected counter, e.g. core/nn/param-count.ts's countParams bound to the task's input channels
// and classes, cached per architecture because the learning rate never changes the count.
import type { Genome } from './genome.ts';

export type ParamCounter = (genome: Genome) => number;

export function cachedParamCounter(count: ParamCounter): ParamCounter {
  const cache = new Map<string, number>();
  return (genome) => {
    const key = `${genome.filters}.${genome.cells}.${genome.inputs.join('.')}.${genome.ops.join('.')}`;
    let params = cache.get(key);
    if (params === undefined) {
      params = count(genome);
      cache.set(key, params);
    }
    return params;
  };
}
