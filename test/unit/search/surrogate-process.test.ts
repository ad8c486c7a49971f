// The surrogate's helper process (core/service/search-surrogate.ts) gives the very numbers of the
// surrogate in the engine's thread, so a run's journal does not depend on where the forest was fitted, and
// answers several requests in order.
import { expect, it } from 'vitest';
import { RandomStream } from '../../../core/base/random.ts';
import type { PredictRequest } from '../../../core/search/protocol.ts';
import { RandomForestSurrogate } from '../../../core/search/surrogate.ts';
import { SurrogateProcess } from '../../../core/service/search-surrogate.ts';

function request(n: number, seed: number, fitKey: string): PredictRequest {
  const rng = RandomStream.fromSeed(seed);
  const row = (): number[] => [
    rng.int(19),
    rng.int(3),
    rng.int(3),
    rng.int(2),
    rng.int(3),
    rng.int(4),
    rng.int(10),
    8 + 9 * rng.next(),
  ];
  const x = Array.from({ length: n }, row);
  return {
    kind: 'predict',
    generation: 3,
    fitKey,
    ids: ['a', 'b', 'c'],
    settings: { engine: 'ml-random-forest', trees: 100, minSamplesSplit: 5, maxFeatures: 1, seed: 0 },
    train: { x, y: x.map((r) => 0.1 * (r[1] as number) - 0.01 * (r[7] as number) + 0.05 * rng.next()) },
    queries: [row(), row(), row()],
  };
}

it(
  'answers exactly as the surrogate in the engine thread, request after request',
  { timeout: 60_000 },
  async () => {
    const host = new SurrogateProcess();
    try {
      const requests = [request(40, 1, 'k40'), request(40, 1, 'k40'), request(60, 2, 'k60')];
      const answers = await Promise.all(requests.map((r) => host.predict(r)));
      const local = new RandomForestSurrogate();
      requests.forEach((r, i) => expect(answers[i]).toEqual(local.predict(r)));
    } finally {
      host.close();
    }
  },
);
