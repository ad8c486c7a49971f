// Runs in: any process (the engine). NSGA-II over the same genome, as a baseline behind the same
// ask/tell protocol: binary tournaments on rank and crowding, uniform crossover, uniform per-gene
// mutation, the out-of-memory repair, the size-bound repair, duplicate avoidance, and elitist survival of
// the best N.
import { functionalKey, genomeKey } from '../searchspace/encoding.ts';
import { uniformProbabilities } from '../searchspace/probabilities.ts';
import { randomGenome } from '../searchspace/sampling.ts';
import { mutate, repairOutOfMemory, uniformCrossover } from '../searchspace/variation.ts';
import { Archive } from './archive.ts';
import type { Nsga2Config } from './config.ts';
import type { Point2 } from './decomposition.ts';
import { crowdingDistances, nonDominatedFronts, selectBestN } from './pareto.ts';
import type { ArchiveEntry, SearchStrategy } from './protocol.ts';
import { SizeFitter } from './size-fitter.ts';
import {
  CandidateMaker,
  archiveFacts,
  Streams,
  budgetLeft,
  evaluateStep,
  initialSpecs,
  logStep,
  strategyFromProcess,
  type StrategyContext,
  type StrategyProcess,
} from './strategy-kit.ts';

const DUPLICATE_ATTEMPTS = 1000;

/** Survival objectives: a failed candidate is worse than any completed one of the same size or larger. */
function survivalPoint(e: ArchiveEntry): Point2 {
  return e.failed ? [1, Math.max(1, e.f2Norm)] : [e.f1Norm, e.f2Norm];
}

export function createNsga2(config: Nsga2Config, context: StrategyContext): SearchStrategy {
  const archive = new Archive(
    context.normalisation,
    config.duplicateKey === 'functional' ? functionalKey : genomeKey,
  );
  const streams = new Streams(config.seed, ['lhs', 'search']);
  const rng = streams.get('search');
  const maker = new CandidateMaker(config.seed, context);
  const fitter = new SizeFitter(context.sizeCheck ?? null, context.paramCounter);
  const uniform = uniformProbabilities();
  let population: number[] = [];
  let generation = 0;

  function ranking(): { rank: Map<number, number>; crowding: Map<number, number> } {
    const points = population.map((i) => survivalPoint(archive.entries[i] as ArchiveEntry));
    const rank = new Map<number, number>();
    const crowding = new Map<number, number>();
    nonDominatedFronts(points).forEach((front, r) => {
      for (const [k, d] of crowdingDistances(points, front)) {
        rank.set(population[k] as number, r);
        crowding.set(population[k] as number, d);
      }
    });
    return { rank, crowding };
  }

  function* run(): StrategyProcess {
    const specs = initialSpecs(config.population, streams, archive, fitter, maker);
    population = (yield* evaluateStep(archive, 0, specs, streams)).map((e) => e.index);
    yield* logStep(record());
    for (
      generation = 1;
      generation < config.generations && budgetLeft(config.maxEvaluations, archive) > 0;
      generation++
    ) {
      const { rank, crowding } = ranking();
      const tournament = (): ArchiveEntry => {
        const a = population[rng.int(population.length)] as number;
        const b = population[rng.int(population.length)] as number;
        const better =
          (rank.get(a) as number) - (rank.get(b) as number) ||
          (crowding.get(b) as number) - (crowding.get(a) as number);
        return archive.entries[better <= 0 ? a : b] as ArchiveEntry;
      };
      const siblings = new Set<string>();
      const children = [];
      const count = Math.min(config.population, budgetLeft(config.maxEvaluations, archive));
      for (let j = 0; j < count; j++) {
        const p1 = tournament();
        const p2 = tournament();
        let child = fitter.repair(
          repairOutOfMemory(
            mutate(
              uniformCrossover(p1.spec.indices, p2.spec.indices, rng),
              config.mutationRate,
              uniform,
              rng,
            ),
            uniform,
            rng,
          ),
        );
        let attempts = 0;
        while (archive.has(child) || siblings.has(archive.key(child))) {
          child = fitter.repair(
            ++attempts > DUPLICATE_ATTEMPTS
              ? randomGenome(rng)
              : repairOutOfMemory(
                  mutate(child, Math.max(config.mutationRate, 0.1), uniform, rng),
                  uniform,
                  rng,
                ),
          );
        }
        siblings.add(archive.key(child));
        children.push(
          maker.make(child, {
            id: `g${generation}-c${j}`,
            generation,
            phase: 'offspring',
            parents: [p1.spec.id, p2.spec.id],
            sizeFit: fitter.last,
          }),
        );
      }
      const entries = yield* evaluateStep(archive, generation, children, streams);
      const pool = [...population, ...entries.map((e) => e.index)];
      population = selectBestN(
        pool.map((i) => survivalPoint(archive.entries[i] as ArchiveEntry)),
        config.population,
      ).map((k) => pool[k] as number);
      yield* logStep(record());
    }
  }

  function record(): Record<string, unknown> {
    return {
      event: 'generation',
      algorithm: 'nsga2',
      generation,
      evaluated: archive.size,
      population: population.map((i) => (archive.entries[i] as ArchiveEntry).spec.id),
      ...archiveFacts(archive, fitter, generation, config.hypervolumeReference),
      streams: streams.states(),
    };
  }

  const view = (): Record<string, unknown> => ({
    algorithm: 'nsga2',
    generation,
    evaluated: archive.size,
    population: population.map((i) => (archive.entries[i] as ArchiveEntry).spec.id),
    streams: streams.states(),
  });

  return strategyFromProcess('nsga2', run(), archive, view);
}
