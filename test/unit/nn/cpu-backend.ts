// Runs in: the test process. Puts tfjs on its cpu backend for the nn tests, and measures the memory that
// backend really holds (shared buffers counted once, unlike tf.memory().numBytes, which counts every view).

import { backend, setBackend } from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-layers';

export async function useCpuBackend(): Promise<void> {
  if (!(await setBackend('cpu'))) throw new Error('The tfjs cpu backend could not be selected.');
}

export interface BufferTracker {
  /** Bytes of live cpu buffers created since tracking began. */
  live(): number;
  /** Highest live() since the last reset. */
  peak(): number;
  reset(): void;
}

interface CpuDataStorage {
  set(id: object, value: { values?: { byteLength: number } }): void;
  delete(id: object): boolean;
}

/** Wraps the cpu backend's buffer store; only buffers created after this call are counted. */
export function trackCpuBuffers(): BufferTracker {
  const store = (backend() as unknown as { data: CpuDataStorage }).data;
  const sizes = new Map<object, number>();
  let live = 0;
  let peak = 0;
  const set = store.set.bind(store);
  const remove = store.delete.bind(store);
  store.set = (id, value) => {
    const bytes = value.values?.byteLength ?? 0;
    live += bytes - (sizes.get(id) ?? 0);
    sizes.set(id, bytes);
    peak = Math.max(peak, live);
    set(id, value);
  };
  store.delete = (id) => {
    live -= sizes.get(id) ?? 0;
    sizes.delete(id);
    return remove(id);
  };
  return {
    live: () => live,
    peak: () => peak,
    reset: () => {
      peak = live;
    },
  };
}
