// run.json's record of the training backends a run's workers selected (core/runs/run-folder.ts).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { RUN_FILES, readRunManifest, recordBackend } from '../../../core/runs/run-folder.ts';
import { startSearch } from '../../../core/service/search.ts';
import { RUN_CONFIG, tempRoot } from './fixtures.ts';

describe('the training backends in run.json', () => {
  it('adds each backend once, in the order first reported, and keeps the rest of run.json', async () => {
    const runDir = join(tempRoot(), 'run');
    await startSearch({ runDir, config: { ...RUN_CONFIG, generations: 2, learningGenerations: 1 } });
    const before = readRunManifest(runDir);
    expect(before.backends).toBeUndefined();
    recordBackend(runDir, 'emonas-cpu');
    recordBackend(runDir, 'emonas-cpu');
    recordBackend(runDir, 'tensorflow');
    const after = JSON.parse(readFileSync(join(runDir, RUN_FILES.manifest), 'utf8'));
    expect(after.backends).toEqual(['emonas-cpu', 'tensorflow']);
    expect({ ...after, backends: undefined }).toEqual(JSON.parse(JSON.stringify(before)));
  });
});
