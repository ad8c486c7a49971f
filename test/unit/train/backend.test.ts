import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { defaultCandidates, selectBackend, type BackendCandidate } from '../../../core/train/backend.ts';

function fake(name: string, problem?: string): BackendCandidate {
  return {
    name,
    tfjsName: 'cpu',
    async load() {
      if (problem) throw new Error(problem);
    },
    async probe() {
      return problem;
    },
  };
}

describe('backend selection', () => {
  it('takes the first backend that loads and says why the better ones were skipped', async () => {
    const choice = await selectBackend({
      candidates: [
        fake('gpu', 'no CUDA driver'),
        fake('native', 'not installed'),
        fake('fast'),
        fake('plain'),
      ],
    });
    expect(choice.backend).toBe('fast');
    expect(choice.backends.map((b) => [b.name, b.available])).toEqual([
      ['gpu', false],
      ['native', false],
      ['fast', true],
      ['plain', true],
      ['wasm', false],
    ]);
    expect(choice.backends[0]?.reason).toBe('no CUDA driver');
    expect(choice.backends[3]?.reason).toMatch(/fast is preferred/);
    expect(choice.backends[4]?.reason).toMatch(/Conv3D input gradient is wrong/);
  });

  it('honours a forced backend and fails with a sentence when it is unusable', async () => {
    const choice = await selectBackend({ only: 'plain', candidates: [fake('fast'), fake('plain')] });
    expect(choice.backend).toBe('plain');
    expect(choice.backends[0]?.reason).toMatch(/EMONAS_BACKEND/);
    await expect(
      selectBackend({ only: 'gpu', candidates: [fake('gpu', 'no CUDA driver'), fake('plain')] }),
    ).rejects.toThrow(/gpu named by EMONAS_BACKEND is not usable \(no CUDA driver\)/);
  });

  it('explains here that the native packages are absent for want of libtensorflow, and falls back to CPU tfjs', async () => {
    const choice = await selectBackend({ candidates: defaultCandidates() });
    const byName = new Map(choice.backends.map((b) => [b.name, b]));
    for (const name of ['tensorflow-gpu', 'tensorflow']) {
      expect(byName.get(name)?.available).toBe(false);
      expect(byName.get(name)?.reason).toMatch(/libtensorflow/);
      expect(byName.get(name)?.reason).toMatch(/npm install @tensorflow\/tfjs-node/);
    }
    expect(['emonas-cpu', 'cpu']).toContain(choice.backend);
    expect(tf.getBackend()).toBe(choice.backend);
    expect(byName.get('cpu')?.available).toBe(true);
  });
});
