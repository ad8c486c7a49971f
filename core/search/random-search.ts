// Runs in: any process (the engine). Random search over the same genome, as a baseline behind the same
// ask/tell protocol: every candidate uniform over the values allowed to each gene and within the size
// bound (drawn again while it breaks it, so the draw stays uniform over the genomes that fit), never a
// duplicate.
import { functionalKey, genomeKey } from '../searchspace/encoding.ts';
import { randomGenome } from '../searchspace/sampling.ts';
import { Archive } from './archive.ts';
import type { RandomSearchConfig } from './config.ts';
import type { SearchStrategy } from './protocol.ts';
import { SizeFitter } from './size-fitter.ts';
import {
  CandidateMaker,
  archiveFacts,
  Streams,
  budgetLeft,
  evaluateStep,
  logStep,
  strategyFromProcess,
  type StrategyContext,
  type StrategyProcess,
} from './strategy-kit.ts';

export function createRandomSearch(config: RandomSearchConfig, context: StrategyContext): SearchStrategy {
  const archive = new Archive(
    context.normalisation,
    config.duplicateKey === 'functional' ? functionalKey : genomeKey,
  );
  const streams = new Streams(config.seed, ['search']);
  const rng = streams.get('search');
  const maker = new CandidateMaker(config.seed, context);
  const fitter = new SizeFitter(context.sizeCheck ?? null, context.paramCounter);
  const draw = (): number[] => fitter.draw(() => randomGenome(rng));
  let generation = 0;

  function* run(): StrategyProcess {
    for (
      generation = 0;
      generation < config.generations && budgetLeft(config.maxEvaluations, archive) > 0;
      generation++
    ) {
      const keys = new Set<string>();
      const specs = [];
      const count = Math.min(config.batch, budgetLeft(config.maxEvaluations, archive));
      for (let j = 0; j < count; j++) {
        let x = draw();
        while (archive.has(x) || keys.has(archive.key(x))) x = draw();
        keys.add(archive.key(x));
        specs.push(
          maker.make(x, {
            id: `g${generation}-c${j}`,
            generation,
            phase: 'random',
            sizeFit: fitter.last,
          }),
        );
      }
      yield* evaluateStep(archive, generation, specs, streams);
      yield* logStep({
        event: 'generation',
        algorithm: 'random',
        generation,
        evaluated: archive.size,
        ...archiveFacts(archive, fitter, generation, config.hypervolumeReference),
        streams: streams.states(),
      });
    }
  }

  const view = (): Record<string, unknown> => ({
    algorithm: 'random',
    generation,
    evaluated: archive.size,
    streams: streams.states(),
  });
  return strategyFromProcess('random', run(), archive, view);
}
