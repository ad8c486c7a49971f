import { runFormula } from './test/unit/search/helpers.ts';
for (const [name, o] of [['fast per-child', { surrogate: { engine: 'fast-cart' } }], ['fast per-gen', { surrogate: { engine: 'fast-cart', refit: 'per-generation' } }]] as const) {
  const t0 = performance.now();
  const r = runFormula({ ...o, seed: 1, generations: 1000, maxEvaluations: 400, mutation: { horizon: 40 } });
  const logs = r.logs;
  console.log(name, r.strategy.archive().length, 'gens', logs.length, 'hv', logs.at(-1)!.hypervolume, ((performance.now() - t0) / 1000).toFixed(1), 's');
}
