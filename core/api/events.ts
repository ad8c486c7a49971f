// Runs in: any process. The table of API events, named `area.pastTense`, that the engine pushes to every
// client, and how often each may be sent: a throttled event keeps at most `perSecond` per value of its key
// field, the latest one winning, so a fast loop cannot flood a renderer or a remote WebSocket.
import type { DatasetRecord } from './datasets.ts';
import type { ErrorData } from './envelope.ts';
import type { FinalModel } from './finish.ts';
import type { CandidateOutcome, EpochPoint, RunSummary } from './runs.ts';

export interface EventSpec<P> {
  summary: string;
  throttle?: { perSecond: number; key: string };
  /** Type-level only, never set: the payload. */
  readonly payload?: P;
}

function event<P>() {
  return (spec: { summary: string; throttle?: { perSecond: number; key: keyof P & string } }): EventSpec<P> =>
    spec;
}

export const events = {
  'inspection.progressed': event<{ folder: string; done: number; total: number }>()({
    summary: 'Cases read so far while a dataset folder is inspected.',
    throttle: { perSecond: 4, key: 'folder' },
  }),
  'dataset.imported': event<{ record: DatasetRecord }>()({
    summary: 'A dataset was added to the library.',
  }),
  'dataset.removed': event<{ name: string }>()({
    summary: 'A dataset was removed from the library.',
  }),
  'run.started': event<{ run: RunSummary }>()({
    summary: 'A search began running, new or resumed.',
  }),
  'candidate.started': event<{ runId: string; id: string; generation: number }>()({
    summary: 'A candidate network was handed to the executor for training.',
    throttle: { perSecond: 10, key: 'runId' },
  }),
  'candidate.completed': event<{
    runId: string;
    id: string;
    outcome: CandidateOutcome;
    seconds: number | null;
  }>()({
    summary: 'A candidate finished training, or failed with its reason.',
    throttle: { perSecond: 10, key: 'runId' },
  }),
  'generation.completed': event<{ runId: string; record: Record<string, unknown> }>()({
    summary: "A generation ended; the record holds the search's figures for it (e.g. hypervolume).",
    throttle: { perSecond: 4, key: 'runId' },
  }),
  'run.paused': event<{ run: RunSummary }>()({
    summary: 'A search stopped on request; it can be resumed.',
  }),
  'run.finished': event<{ run: RunSummary }>()({
    summary: 'A search completed.',
  }),
  'run.failed': event<{ run: RunSummary; error: ErrorData }>()({
    summary: 'A search stopped because of an error; what it evaluated is kept and it can be resumed.',
  }),
  'review.progressed': event<{
    runId: string;
    candidateId: string;
    done: number;
    total: number;
    caseId: string;
  }>()({
    summary: "Validation cases predicted so far while a candidate's review is prepared.",
    throttle: { perSecond: 4, key: 'candidateId' },
  }),
  'final.started': event<{ final: FinalModel }>()({
    summary: "A run's final training began, new or resumed.",
  }),
  'final.preprocessed': event<{ runId: string; done: number; total: number }>()({
    summary: 'Cases preprocessed so far before a final training starts.',
    throttle: { perSecond: 4, key: 'runId' },
  }),
  'final.progressed': event<{ runId: string; point: EpochPoint; epochs: number; etaSeconds: number }>()({
    summary: "An epoch of a run's final training ended: its point of the learning curves.",
    throttle: { perSecond: 4, key: 'runId' },
  }),
  'final.ended': event<{ final: FinalModel }>()({
    summary: 'A final training finished, was paused, cancelled, or failed (its state and reason say which).',
  }),
  'test.progressed': event<{ runId: string; model: string; done: number; total: number; caseId: string }>()({
    summary: "Test cases predicted so far while a model's test evaluation is prepared.",
    throttle: { perSecond: 4, key: 'runId' },
  }),
  'scans.progressed': event<{ folder: string; done: number; total: number; file: string }>()({
    summary: 'Scans predicted so far while a model is applied to new scans.',
    throttle: { perSecond: 4, key: 'folder' },
  }),
} as const;

export type Events = typeof events;
export type EventName = keyof Events;
export type EventPayload<E extends EventName> = Events[E] extends EventSpec<infer P> ? P : never;

export const eventNames = Object.keys(events) as EventName[];

export function isEventName(name: unknown): name is EventName {
  return typeof name === 'string' && Object.hasOwn(events, name);
}
