// Runs in: any process (the engine). SaMEA, the surrogate-assisted MOEA/D of method.md section 4, as a
// deterministic ask/tell state machine: initialisation by a per-gene Latin hypercube, learning
// generations that train every child, exploitation generations screened by a random-forest surrogate with
// an end-of-generation infill, adaptive selection probabilities, the external archive, and children
// repaired to the run's size bound.
import { functionalKey, genomeKey } from '../searchspace/encoding.ts';
import type { GeneIndices } from '../searchspace/genome.ts';
import { uniformProbabilities, type ValueProbabilities } from '../searchspace/probabilities.ts';
import { mutate, repairOutOfMemory, uniformCrossover } from '../searchspace/variation.ts';
import { Archive, point, surrogateFeatures } from './archive.ts';
import type { SameaConfig } from './config.ts';
import { mutationRate, neighbourhoods, pbi, weightVectors, type Point2 } from './decomposition.ts';
import { kendallTau } from './kendall.ts';
import type {
  ArchiveEntry,
  CandidateSpec,
  Phase,
  SearchStrategy,
  SizeFit,
  SurrogateSettings,
} from './protocol.ts';
import { subproblemProbabilities, successesOf, valueProbabilities } from './samea-probabilities.ts';
import { chooseInfill, isPromising } from './screening.ts';
import { SizeFitter } from './size-fitter.ts';
import {
  CandidateMaker,
  archiveFacts,
  Streams,
  budgetLeft,
  evaluateStep,
  initialSpecs,
  logStep,
  predictStep,
  strategyFromProcess,
  type Step,
  type StrategyContext,
  type StrategyProcess,
} from './strategy-kit.ts';

/** After this many rejected duplicates in a row, every gene is mutated, so breeding always ends. */
const DUPLICATE_ATTEMPTS = 1000;

interface GenerationLog {
  trained: string[];
  deferred: string[];
  infill: string[];
  replacements: { id: string; slots: number[] }[];
}

export function createSamea(config: SameaConfig, context: StrategyContext): SearchStrategy {
  const n = config.population;
  const archive = new Archive(
    context.normalisation,
    config.duplicateKey === 'functional' ? functionalKey : genomeKey,
  );
  const streams = new Streams(config.seed, ['lhs', 'search']);
  const rng = streams.get('search');
  const maker = new CandidateMaker(config.seed, context);
  const fitter = new SizeFitter(context.sizeCheck ?? null, context.paramCounter);
  const weights = weightVectors(n, config.weightRange[0], config.weightRange[1]);
  const neighbours = neighbourhoods(weights, config.neighbourhood);
  const horizon = config.mutation.horizon ?? config.generations;
  const settings: SurrogateSettings = {
    engine: config.surrogate.engine,
    trees: config.surrogate.trees,
    minSamplesSplit: config.surrogate.minSamplesSplit,
    maxFeatures: config.surrogate.maxFeatures,
    seed: config.surrogate.seed,
  };
  const features = (spec: CandidateSpec): number[] => surrogateFeatures(spec, config.surrogate.features);

  const state = {
    generation: 0,
    phase: 'initialisation' as Phase,
    /** Archive index of each subproblem's incumbent. */
    population: [] as number[],
    probabilities: uniformProbabilities() as ValueProbabilities,
    subproblems: new Array<number>(n).fill(1 / n),
    success: [] as number[][],
    deferred: [] as CandidateSpec[],
  };

  const incumbent = (slot: number): ArchiveEntry =>
    archive.entries[state.population[slot] as number] as ArchiveEntry;
  const scalar = (f: Point2, slot: number): number => pbi(f, weights[slot] as Point2, config.theta);

  function breed(
    sp: number,
    rate: number,
    siblings: Set<string>,
  ): { indices: number[]; parents: string[]; sizeFit: SizeFit | null } {
    const pool = [...(neighbours[sp] as number[])];
    const first = pool.splice(rng.int(pool.length), 1)[0] as number;
    const second = pool[rng.int(pool.length)] as number;
    const parents = [incumbent(first), incumbent(second)];
    const taken = (x: GeneIndices): boolean => archive.has(x) || siblings.has(archive.key(x));
    const repair = (x: GeneIndices): number[] => repairOutOfMemory(x, state.probabilities, rng);
    let child = mutate(
      uniformCrossover(parents[0]!.spec.indices, parents[1]!.spec.indices, rng),
      rate,
      state.probabilities,
      rng,
    );
    let attempts = 0;
    const again = (x: GeneIndices): number[] =>
      mutate(x, ++attempts > DUPLICATE_ATTEMPTS ? 1 : rate, state.probabilities, rng);
    if (config.repairOrder === 'before-duplicate-check') {
      child = repair(child);
      while (taken(child)) child = repair(again(child));
    } else {
      while (taken(child)) child = again(child);
      child = repair(child);
    }
    // The size bound is this project's constraint: a child it repaired that duplicates a trained genome is
    // bred again, so no evaluation is spent twice. A child within the bound goes on as the reference's would.
    child = fitter.repair(child);
    if (fitter.last !== null) {
      while (taken(child)) child = fitter.repair(repair(again(child)));
    }
    return { indices: child, parents: parents.map((p) => p.spec.id), sizeFit: fitter.last };
  }

  function promising(spec: CandidateSpec): boolean {
    const predicted: Point2 = [spec.prediction?.mean ?? 0, spec.f2Norm];
    return isPromising(
      predicted,
      neighbours[spec.subproblem as number] as number[],
      (m) => point(incumbent(m)),
      weights,
      config.theta,
    );
  }

  function replace(entry: ArchiveEntry, log: GenerationLog): void {
    if (entry.failed || entry.spec.subproblem === null) return;
    const slots = (neighbours[entry.spec.subproblem] as number[]).filter(
      (m) => scalar(point(entry), m) <= scalar(point(incumbent(m)), m),
    );
    for (const m of slots) state.population[m] = entry.index;
    if (slots.length > 0) log.replacements.push({ id: entry.spec.id, slots });
  }

  function* predict(generation: number, rows: number, specs: CandidateSpec[]): Step<void> {
    if (rows < 2 || specs.length === 0) return;
    const predictions = yield* predictStep(
      archive,
      generation,
      rows,
      specs,
      settings,
      features,
      config.surrogate.features,
    );
    specs.forEach((spec, i) => (spec.prediction = predictions[i] ?? null));
  }

  function* train(generation: number, specs: CandidateSpec[], log: GenerationLog): Step<ArchiveEntry[]> {
    const allowed = specs.slice(0, budgetLeft(config.maxEvaluations, archive));
    const entries = yield* evaluateStep(archive, generation, allowed, streams);
    log.trained.push(...entries.map((e) => e.spec.id));
    return entries;
  }

  function* initialise(): Step<void> {
    const specs = initialSpecs(n, streams, archive, fitter, maker);
    const log = emptyLog();
    const entries = yield* train(0, specs, log);
    state.population = [...entries]
      .sort((a, b) => b.f1 - a.f1 || a.spec.params - b.spec.params || a.index - b.index)
      .map((e) => e.index);
    state.success.push(new Array<number>(n).fill(0));
    yield* logStep(record(0, log, null));
  }

  /** Screens a child by a forest fitted on the first `rows` trained candidates, then trains or defers it. */
  function* screenAndTrain(
    g: number,
    spec: CandidateSpec,
    rows: number,
    screening: boolean,
    log: GenerationLog,
  ): Step<void> {
    if (screening || config.surrogate.monitorLearningPhase) yield* predict(g, rows, [spec]);
    if (screening && spec.prediction !== null && !promising(spec)) {
      state.deferred.push(spec);
      log.deferred.push(spec.id);
      return;
    }
    for (const entry of yield* train(g, [spec], log)) replace(entry, log);
  }

  function* sequentialChildren(g: number, rate: number, screening: boolean, log: GenerationLog): Step<void> {
    const startRows = archive.size;
    for (let j = 0; j < n && budgetLeft(config.maxEvaluations, archive) > 0; j++) {
      const sp = state.phase === 'learning' ? j : rng.weighted(state.subproblems);
      const { indices, parents, sizeFit } = breed(sp, rate, new Set());
      const spec = maker.make(indices, {
        id: `g${g}-c${j}`,
        generation: g,
        phase: state.phase,
        subproblem: sp,
        parents,
        sizeFit,
      });
      const rows = config.surrogate.refit === 'per-child' ? archive.size : startRows;
      yield* screenAndTrain(g, spec, rows, screening, log);
    }
  }

  function* batchChildren(g: number, rate: number, screening: boolean, log: GenerationLog): Step<void> {
    const siblings = new Set<string>();
    const children: CandidateSpec[] = [];
    for (let j = 0; j < n; j++) {
      const sp = state.phase === 'learning' ? j : rng.weighted(state.subproblems);
      const { indices, parents, sizeFit } = breed(sp, rate, siblings);
      siblings.add(archive.key(indices));
      children.push(
        maker.make(indices, {
          id: `g${g}-c${j}`,
          generation: g,
          phase: state.phase,
          subproblem: sp,
          parents,
          sizeFit,
        }),
      );
    }
    const predicting = screening || config.surrogate.monitorLearningPhase;
    if (predicting && config.surrogate.refit === 'per-child') {
      // The reference's refit: each child is screened by a forest that has its elder siblings' results, so
      // the children wait for each other and are trained one at a time, in child order.
      for (const child of children) {
        if (budgetLeft(config.maxEvaluations, archive) <= 0) break;
        yield* screenAndTrain(g, child, archive.size, screening, log);
      }
      return;
    }
    if (predicting) yield* predict(g, archive.size, children);
    const now = children.filter((c) => !screening || c.prediction === null || promising(c));
    if (screening) {
      state.deferred = children.filter((c) => !now.includes(c));
      log.deferred.push(...state.deferred.map((c) => c.id));
    }
    for (const entry of yield* train(g, now, log)) replace(entry, log);
  }

  function infillChoice(): CandidateSpec[] {
    const deferred = state.deferred.filter((c) => !archive.has(c.indices));
    const points = deferred.map((c) => ({
      mean: c.prediction?.mean ?? 0,
      std: c.prediction?.std ?? 0,
      f2Norm: c.f2Norm,
    }));
    return chooseInfill(archive.front().map(point), points).map((i) => ({
      ...(deferred[i] as CandidateSpec),
      phase: 'infill',
    }));
  }

  function record(g: number, log: GenerationLog, rate: number | null): Record<string, unknown> {
    const predicted = archive.entries.filter(
      (e) => e.spec.generation === g && e.spec.prediction !== null && !e.failed,
    );
    return {
      event: 'generation',
      algorithm: 'samea',
      generation: g,
      phase: state.phase,
      mutationRate: rate,
      evaluated: archive.size,
      ...log,
      population: state.population.map((i) => (archive.entries[i] as ArchiveEntry).spec.id),
      ...archiveFacts(archive, fitter, g, config.hypervolumeReference),
      kendallTau: kendallTau(
        predicted.map((e) => e.spec.prediction?.mean ?? 0),
        predicted.map((e) => e.f1Norm),
      ),
      success: state.success[g] ?? [],
      subproblemProbabilities: state.subproblems,
      valueProbabilities: state.probabilities,
      streams: streams.states(),
    };
  }

  function* run(): StrategyProcess {
    yield* initialise();
    for (let g = 1; g < config.generations && budgetLeft(config.maxEvaluations, archive) > 0; g++) {
      state.generation = g;
      state.phase = g <= config.learningGenerations ? 'learning' : 'exploitation';
      state.deferred = [];
      const rate = mutationRate(g, horizon, config.mutation.phi0, config.mutation.floor);
      const screening = config.surrogate.enabled && state.phase === 'exploitation';
      const log = emptyLog();
      if (config.evaluationOrder === 'sequential') yield* sequentialChildren(g, rate, screening, log);
      else yield* batchChildren(g, rate, screening, log);
      if (screening && config.infill) {
        const picks = infillChoice();
        log.infill.push(...picks.map((c) => c.id));
        for (const entry of yield* train(g, picks, log)) replace(entry, log);
      }
      state.success.push(successesOf(archive.entries, g, n, n));
      if (g > config.learningGenerations) {
        state.subproblems = subproblemProbabilities(state.success, config.selectionFloor);
        state.probabilities = valueProbabilities(
          archive.entries,
          context.normalisation.f1Bound,
          config.selectionFloor,
        );
      }
      yield* logStep(record(g, log, rate));
    }
  }

  const view = (): Record<string, unknown> => ({
    algorithm: 'samea',
    generation: state.generation,
    phase: state.phase,
    evaluated: archive.size,
    weights,
    neighbourhoods: neighbours,
    population: state.population.map((i) => (archive.entries[i] as ArchiveEntry).spec.id),
    deferred: state.deferred.map((c) => c.id),
    subproblemProbabilities: state.subproblems,
    valueProbabilities: state.probabilities,
    success: state.success,
    streams: streams.states(),
  });

  return strategyFromProcess('samea', run(), archive, view);
}

function emptyLog(): GenerationLog {
  return { trained: [], deferred: [], infill: [], replacements: [] };
}
