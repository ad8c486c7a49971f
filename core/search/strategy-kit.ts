// Runs in: any process. What every strategy shares: the adapter that turns a generator (the algorithm
// written as straight-line code) into an ask/tell state machine, named random streams, candidate specs,
// the initial population, the archive's figures every generation log carries, and the evaluate / predict /
// log steps.
import { EmonasError } from '../base/errors.ts';
import { RandomStream, type RandomState } from '../base/random.ts';
import { decode } from '../searchspace/encoding.ts';
import type { ParamCounter } from '../searchspace/param-counter.ts';
import { latinHypercubeSample, randomGenome } from '../searchspace/sampling.ts';
import type { SizeCheck } from '../searchspace/size-bound.ts';
import type { Archive } from './archive.ts';
import type { Point2 } from './decomposition.ts';
import { normaliseF2, type Normalisation } from './normalisation.ts';
import type {
  ArchiveEntry,
  CandidateSpec,
  Phase,
  Prediction,
  SearchStrategy,
  StrategyAnswer,
  SizeFit,
  StrategyRequest,
  SurrogateSettings,
} from './protocol.ts';
import type { SizeFitter } from './size-fitter.ts';

export type StrategyProcess = Generator<StrategyRequest, void, StrategyAnswer>;
export type Step<T> = Generator<StrategyRequest, T, StrategyAnswer>;

export interface StrategyContext {
  paramCounter: ParamCounter;
  normalisation: Normalisation;
  /** The run's size bound (core/nn builds it from run.json); every candidate is brought within it. */
  sizeCheck?: SizeCheck | null;
}

const DONE: StrategyRequest = { kind: 'done' };

/** Wraps an algorithm generator as a SearchStrategy; the generator runs to its first request at once. */
export function strategyFromProcess(
  algorithm: string,
  process: StrategyProcess,
  archive: Archive,
  view: () => Record<string, unknown>,
): SearchStrategy {
  const first = process.next(undefined as unknown as StrategyAnswer);
  let current: StrategyRequest = first.done ? DONE : first.value;
  return {
    algorithm,
    ask: () => current,
    tell(answer) {
      checkAnswer(current, answer);
      const next = process.next(answer);
      current = next.done ? DONE : next.value;
    },
    archive: () => archive.entries,
    view,
  };
}

function checkAnswer(request: StrategyRequest, answer: StrategyAnswer): void {
  const expected = { evaluate: 'evaluated', predict: 'predicted', log: 'ack', done: null }[request.kind];
  if (expected === null) {
    throw new EmonasError('conflict', 'The search has finished and expects no further answers.');
  }
  if (answer.kind !== expected) {
    throw new EmonasError(
      'internal',
      `The search asked to ${request.kind} but was answered with ${answer.kind}.`,
    );
  }
  if (request.kind === 'evaluate' && answer.kind === 'evaluated') {
    const missing = request.candidates.filter((c) => answer.outcomes[c.id] === undefined).map((c) => c.id);
    if (missing.length > 0) {
      throw new EmonasError(
        'internal',
        `The search is missing the outcome of candidate ${missing.join(', ')}.`,
      );
    }
  }
  if (request.kind === 'predict' && answer.kind === 'predicted') {
    if (answer.mean.length !== request.ids.length || answer.std.length !== request.ids.length) {
      throw new EmonasError(
        'internal',
        `The surrogate answered ${answer.mean.length} predictions for ${request.ids.length} candidates.`,
      );
    }
  }
}

/** Named random streams whose positions go into every decision record. */
export class Streams {
  private readonly streams = new Map<string, RandomStream>();

  constructor(seed: number, names: readonly string[]) {
    for (const name of names) this.streams.set(name, RandomStream.fromSeed(seed, name));
  }

  get(name: string): RandomStream {
    const stream = this.streams.get(name);
    if (!stream) throw new EmonasError('internal', `No random stream named ${name}.`);
    return stream;
  }

  states(): Record<string, RandomState> {
    return Object.fromEntries([...this.streams].map(([name, s]) => [name, s.state()]));
  }
}

export interface CandidateMeta {
  id: string;
  generation: number;
  phase: Phase;
  subproblem?: number | null;
  parents?: string[];
  sizeFit?: SizeFit | null;
}

/** Builds candidate specs: decoded genome, parameter count, f2 and a per-candidate weight seed. */
export class CandidateMaker {
  constructor(
    private readonly seed: number,
    private readonly context: StrategyContext,
  ) {}

  make(indices: readonly number[], meta: CandidateMeta): CandidateSpec {
    const genome = decode(indices);
    const params = this.context.paramCounter(genome);
    if (!Number.isFinite(params) || params < 1) {
      throw new EmonasError('internal', `The parameter counter returned ${params} for candidate ${meta.id}.`);
    }
    const f2 = Math.log(params);
    return {
      id: meta.id,
      generation: meta.generation,
      indices: [...indices],
      genome,
      params,
      f2,
      f2Norm: normaliseF2(f2, this.context.normalisation),
      seed: RandomStream.fromSeed(this.seed, `weights:${meta.id}`).nextUint32(),
      subproblem: meta.subproblem ?? null,
      parents: meta.parents ?? [],
      phase: meta.phase,
      prediction: null,
      ...(meta.sizeFit && { sizeFit: meta.sizeFit }),
    };
  }
}

/**
 * Generation 0 of the population strategies: a per-gene Latin hypercube of `count` genomes, each brought
 * within the size bound; a genome the sample repeats is replaced by a uniform draw from the same stream.
 */
export function initialSpecs(
  count: number,
  streams: Streams,
  archive: Archive,
  fitter: SizeFitter,
  maker: CandidateMaker,
): CandidateSpec[] {
  const lhs = streams.get('lhs');
  const seen = new Set<string>();
  return latinHypercubeSample(count, lhs).map((x, j) => {
    let indices = fitter.repair(x);
    while (seen.has(archive.key(indices))) indices = fitter.repair(randomGenome(lhs));
    seen.add(archive.key(indices));
    return maker.make(indices, {
      id: `g0-c${j}`,
      generation: 0,
      phase: 'initialisation',
      sizeFit: fitter.last,
    });
  });
}

/** Asks for the specs to be evaluated and adds the outcomes to the archive in spec order. */
export function* evaluateStep(
  archive: Archive,
  generation: number,
  specs: CandidateSpec[],
  streams: Streams,
): Step<ArchiveEntry[]> {
  if (specs.length === 0) return [];
  const answer = yield { kind: 'evaluate', generation, candidates: specs, streams: streams.states() };
  if (answer.kind !== 'evaluated') return [];
  return specs.map((spec) => archive.add(spec, answer.outcomes[spec.id] as never));
}

/** Asks for surrogate predictions of the specs, fitted on the archive's first `rows` entries. */
export function* predictStep(
  archive: Archive,
  generation: number,
  rows: number,
  specs: CandidateSpec[],
  settings: SurrogateSettings,
  features: (spec: CandidateSpec) => number[],
  encoding: 'indices' | 'onehot',
): Step<Prediction[]> {
  const answer = yield {
    kind: 'predict',
    generation,
    fitKey: `${encoding}:${rows}`,
    ids: specs.map((s) => s.id),
    settings,
    train: archive.trainingSet(rows, encoding),
    queries: specs.map(features),
  };
  if (answer.kind !== 'predicted') return [];
  return specs.map((_, i) => ({ mean: answer.mean[i] as number, std: answer.std[i] as number }));
}

/**
 * The archive's figures every strategy's generation log carries: the candidates of the generation the size
 * bound changed (with a bound only), the front's size and its hypervolume.
 */
export function archiveFacts(
  archive: Archive,
  fitter: SizeFitter,
  generation: number,
  reference: Point2,
): Record<string, unknown> {
  return {
    ...fitter.logCount(archive.entries, generation),
    frontSize: archive.front().length,
    hypervolume: archive.hypervolume(reference),
  };
}

export function* logStep(record: Record<string, unknown>): Step<void> {
  yield { kind: 'log', record };
}

/** How many more candidates the budget allows. */
export function budgetLeft(maxEvaluations: number | null, archive: Archive): number {
  return maxEvaluations === null ? Infinity : Math.max(0, maxEvaluations - archive.size);
}
