import { runFormula } from './test/unit/search/helpers.ts';
for (const [name, o] of [['per-gen', { surrogate: { refit: 'per-generation' } }], ['gen-batch', { evaluationOrder: 'generation' }]] as const) {
  const t0 = performance.now();
  const r = runFormula({ ...o, seed: 1, generations: 1000, maxEvaluations: 400 });
  const logs = r.logs;
  console.log(name, r.strategy.archive().length, 'gens', logs.length, 'hv', logs.at(-1)!.hypervolume, ((performance.now() - t0) / 1000).toFixed(1), 's');
}
