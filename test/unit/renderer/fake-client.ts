// A stand-in engine for renderer tests: answers each method from a handler the test gives, records the
// calls, and lets the test push events.
import type { ApiClient } from '../../../core/api/client.ts';
import type { DatasetRecord, DatasetReport } from '../../../core/api/datasets.ts';
import { ok, type Result } from '../../../core/api/envelope.ts';
import type { EventName, EventPayload } from '../../../core/api/events.ts';
import type { MethodInput, MethodName, MethodOutput } from '../../../core/api/methods.ts';

type Handlers = {
  [M in MethodName]?: (input: MethodInput<M>) => Promise<Result<MethodOutput<M>>> | Result<MethodOutput<M>>;
};

export class FakeClient implements ApiClient {
  calls: { method: MethodName; input: unknown }[] = [];
  private listeners = new Map<string, Set<(payload: never) => void>>();

  constructor(private readonly handlers: Handlers = {}) {}

  async call<M extends MethodName>(method: M, input: MethodInput<M>): Promise<Result<MethodOutput<M>>> {
    this.calls.push({ method, input });
    const handler = this.handlers[method] as ((input: MethodInput<M>) => Result<MethodOutput<M>>) | undefined;
    if (!handler) throw new Error(`the test gave no answer for ${method}`);
    return handler(input);
  }

  on<E extends EventName>(event: E, listener: (payload: EventPayload<E>) => void) {
    const set = this.listeners.get(event) ?? new Set();
    this.listeners.set(event, set);
    set.add(listener as (payload: never) => void);
    return () => set.delete(listener as (payload: never) => void);
  }

  emit<E extends EventName>(event: E, payload: EventPayload<E>): void {
    for (const listener of this.listeners.get(event) ?? [])
      (listener as (p: EventPayload<E>) => void)(payload);
  }

  listenerCount(event: EventName): number {
    return this.listeners.get(event)?.size ?? 0;
  }
}

export function sampleReport(overrides: Partial<DatasetReport> = {}): DatasetReport {
  return {
    kind: 'msd',
    root: '/data/Task04_Hippocampus',
    name: 'Hippocampus',
    labels: { 0: 'background', 1: 'Anterior', 2: 'Posterior' },
    cases: [
      {
        id: 'hippocampus_001',
        patient: 'hippocampus_001',
        subset: 'train',
        image: '/data/Task04_Hippocampus/imagesTr/hippocampus_001.nii.gz',
        label: '/data/Task04_Hippocampus/labelsTr/hippocampus_001.nii.gz',
        shape: [35, 51, 35],
        spacing: [1, 1, 1],
        ok: true,
        problems: [],
      },
      {
        id: 'hippocampus_002',
        patient: 'hippocampus_002',
        subset: 'train',
        image: '/data/Task04_Hippocampus/imagesTr/hippocampus_002.nii.gz',
        label: '/data/Task04_Hippocampus/labelsTr/hippocampus_002.nii.gz',
        ok: false,
        problems: [
          {
            message: 'The label map holds the value 7, which dataset.json does not declare.',
            file: 'labelsTr/hippocampus_002.nii.gz',
          },
          {
            message: 'The label map is not on the grid of its image: shape 35 × 50 × 35.',
            file: 'labelsTr/hippocampus_002.nii.gz',
          },
        ],
      },
    ],
    problems: [
      {
        message: 'dataset.json lists imagesTr/hippocampus_009.nii.gz, which is absent.',
        file: 'dataset.json',
      },
    ],
    summary: {
      cases: 2,
      usable: 1,
      test: 0,
      broken: 1,
      problems: 3,
      shape: { min: [35, 51, 35], median: [35, 51, 35], max: [35, 51, 35] },
      spacing: { min: [1, 1, 1], median: [1, 1, 1], max: [1, 1, 1] },
    },
    ...overrides,
  };
}

export function sampleRecord(name = 'Hippocampus'): DatasetRecord {
  return {
    name,
    kind: 'msd',
    root: '/data/Task04_Hippocampus',
    copied: false,
    labels: { 0: 'background', 1: 'Anterior', 2: 'Posterior' },
    usable: 1,
    broken: 1,
    importedAt: '2025-01-01T10:00:00.000Z',
  };
}

export { ok };
