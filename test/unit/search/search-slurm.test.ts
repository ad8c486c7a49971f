// `emonas search --executor slurm` for a dataset: the search sends its candidates to Slurm (here a fake of
// its commands) with the training evaluator built from the run's settings, and resume reopens that Slurm
// executor from the run folder alone.
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { readJournal } from '../../../core/runs/journal.ts';
import { resume, startSearch } from '../../../core/service/search.ts';
import { smallHippocampus } from '../api/demo-fixture.ts';
import { FakeSlurm } from '../slurm/fake-slurm.ts';

it(
  'sends a dataset search to Slurm with its training settings, and resumes it there',
  { timeout: 60_000 },
  async () => {
    const temp = mkdtempSync(join(tmpdir(), 'emonas-search-slurm-'));
    const fake = new FakeSlurm(join(temp, 'slurm-fake'));
    const dataset = smallHippocampus(['hippocampus_001', 'hippocampus_003', 'hippocampus_004']);
    const runDir = join(temp, 'run');
    const stop = new AbortController();
    const summary = await startSearch(
      {
        runDir,
        config: { preset: 'quick', population: 2, neighbourhood: 2, generations: 2, learningGenerations: 1 },
        problem: {
          kind: 'dataset',
          dataset,
          epochs: 2,
          stepsPerEpoch: 3,
          patch: [16, 16, 16],
          valFraction: 0.34,
          testFraction: 0,
          cacheDir: join(temp, 'cache'),
        },
        executor: 'slurm',
        slurmConfig: { slurmBin: fake.bin, pollSeconds: 1, gpusPerTask: 0 },
      },
      { signal: stop.signal, onEvent: (e) => e.type === 'candidate.started' && stop.abort() },
    );
    expect(summary.status).toBe('stopped');
    expect(fake.submitted()).toHaveLength(1);
    const setup = JSON.parse(readFileSync(join(runDir, 'slurm', 'executor.json'), 'utf8')) as {
      evaluator: Record<string, unknown>;
    };
    // The job steps train with the run's training.json: the settings every local worker would use.
    expect(setup.evaluator).toEqual({ kind: 'training', setupFile: join(runDir, 'training.json') });
    const training = JSON.parse(readFileSync(join(runDir, 'training.json'), 'utf8')) as {
      datasetRoot: string;
      settings: { epochs: number; stepsPerEpoch: number; patch: number[] };
      split: { valFraction: number; testFraction: number; seed: number };
    };
    expect(training.datasetRoot).toBe(dataset);
    expect(training.settings).toMatchObject({ epochs: 2, stepsPerEpoch: 3, patch: [16, 16, 16] });
    expect(training.split).toMatchObject({ valFraction: 0.34, testFraction: 0, seed: 0 });
    const manifest = JSON.parse(readFileSync(join(runDir, 'run.json'), 'utf8')) as {
      executor: { kind: string };
      search: { objective: { epochs: number } };
    };
    expect(manifest.executor.kind).toBe('slurm');
    expect(manifest.search.objective.epochs).toBe(2);
    expect(existsSync(join(runDir, 'training.json'))).toBe(true);

    // Resume finds Slurm again from the run folder: the stopped candidates go back to sbatch.
    const again = new AbortController();
    const resumed = await resume(
      { runDir },
      { signal: again.signal, onEvent: (e) => e.type === 'candidate.started' && again.abort() },
    );
    expect(resumed.status).toBe('stopped');
    expect(fake.submitted()).toHaveLength(2);
    const submitted = readJournal(join(runDir, 'journal.jsonl')).records.filter((r) => r.t === 'submitted');
    expect(submitted.length).toBeGreaterThan(0);
    expect(submitted.every((r) => r.t === 'submitted' && r.handle.executor === 'slurm')).toBe(true);
  },
);
