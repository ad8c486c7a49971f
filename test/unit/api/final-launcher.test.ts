// The host's training-worker launcher reaches the final training: an engine given a launcher (as the desktop
// app gives it Electron's utility processes, electron/worker-launcher.ts) starts a run's final training
// through it, not by forking on its own. The stand-in launcher records what it was asked to start and
// starts a real worker, so the final model is trained for real.
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import type { FinalModel } from '../../../core/api/finish.ts';
import { createEngine } from '../../../core/service/index.ts';
import { forkTrainingWorker } from '../../../core/train/worker-host.ts';
import { smallHippocampus } from './demo-fixture.ts';
import { engineTinySearch } from '../../fixtures/tiny-search.ts';
import { value } from '../../fixtures/api-value.ts';

it('starts the final training through the launcher the engine was given', { timeout: 300_000 }, async () => {
  const temp = mkdtempSync(join(tmpdir(), 'emonas-final-launcher-'));
  const launched: (string | undefined)[] = [];
  const engine = createEngine({
    dataDir: join(temp, 'data'),
    log: () => undefined,
    launchWorker: (logFile) => {
      launched.push(logFile);
      return forkTrainingWorker(logFile);
    },
  });
  try {
    const { runId, runDir } = await engineTinySearch(engine, smallHippocampus(), {
      stepsPerEpoch: 1,
      valFraction: 0.34,
      testFraction: 0,
      cacheDir: join(temp, 'cache'),
    });
    // The candidates went through it already: the search's pool takes the same launcher.
    const beforeFinal = launched.length;
    expect(beforeFinal).toBeGreaterThan(0);

    const ended = new Promise<FinalModel>((resolve) => {
      const off = engine.on('final.ended', ({ final }) => {
        off();
        resolve(final);
      });
    });
    value(await engine.call('final.start', { runId, epochs: 1, stepsPerEpoch: 1 }));
    const final = await ended;
    expect(final.state, final.reason).toBe('finished');
    expect(launched.slice(beforeFinal)).toEqual([join(runDir, 'final.partial', 'worker.log')]);
    expect(existsSync(join(runDir, 'final', 'emonas-model.json'))).toBe(true);
  } finally {
    await engine.close();
  }
});
