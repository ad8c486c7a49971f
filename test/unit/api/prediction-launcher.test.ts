// The host's launcher reaches the prediction worker: an engine given the desktop app's launchers
// (electron/worker-launcher.ts) predicts a candidate's review, its test evaluation and scans applied with it
// through the utility process fork, not by forking on its own; an engine given none forks as before. The
// stand-in for Electron's utilityProcess records what it was asked to start and runs the matching worker
// for real (the TypeScript entry under child_process.fork, since no Electron binary is here), so every
// prediction is really made.
import { fork, type ChildProcess, type Serializable } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { expect, it } from 'vitest';
import { createEngine } from '../../../core/service/index.ts';
import {
  chooseWorkerLaunchers,
  type UtilityChild,
  type UtilityProcessModule,
} from '../../../electron/worker-launcher.ts';
import { engineTinySearch } from '../../fixtures/tiny-search.ts';
import { smallHippocampus } from './demo-fixture.ts';
import { value } from '../../fixtures/api-value.ts';

const ENTRIES = { training: '/app/training-worker.mjs', prediction: '/app/prediction-worker.mjs' };
/** What each bundled entry runs here. */
const SOURCES: Record<string, string> = {
  [ENTRIES.training]: fileURLToPath(new URL('../../../core/train/worker-entry.ts', import.meta.url)),
  [ENTRIES.prediction]: fileURLToPath(
    new URL('../../../core/service/review-worker-entry.ts', import.meta.url),
  ),
};
const TSX_LOADER = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
const DEMO_IMAGES = fileURLToPath(
  new URL('../../../resources/demo/Task04_Hippocampus_demo/imagesTr/', import.meta.url),
);

/** A real worker process behind the part of Electron's UtilityProcess the launcher uses. */
class ForkedChild extends EventEmitter implements UtilityChild {
  readonly pid: number | undefined;
  readonly stdout: ChildProcess['stdout'];
  readonly stderr: ChildProcess['stderr'];
  readonly #child: ChildProcess;
  constructor(child: ChildProcess) {
    super();
    this.#child = child;
    this.pid = child.pid;
    this.stdout = child.stdout;
    this.stderr = child.stderr;
    child.on('message', (message) => this.emit('message', message));
    // Electron reports a utility process's exit as a code only.
    child.on('exit', (code) => this.emit('exit', code ?? 1));
  }
  postMessage(message: unknown): void {
    this.#child.send(message as Serializable);
  }
  kill(): boolean {
    return this.#child.kill();
  }
}

function forkingUtility() {
  const forks: { path: string; serviceName: string | undefined }[] = [];
  const utility: UtilityProcessModule = {
    fork(path, _args, options) {
      forks.push({ path, serviceName: options?.serviceName });
      const source = SOURCES[path];
      if (source === undefined) throw new Error(`No worker is bundled as ${path}.`);
      const child = fork(source, [], {
        execArgv: ['--import', TSX_LOADER],
        stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
        env: options?.env ?? process.env,
      });
      return new ForkedChild(child);
    },
  };
  return { utility, forks };
}

it(
  'predicts through the launcher the engine was given, and forks without one',
  { timeout: 600_000 },
  async () => {
    const temp = mkdtempSync(join(tmpdir(), 'emonas-prediction-launcher-'));
    const dataDir = join(temp, 'data');
    const { utility, forks } = forkingUtility();
    const launchers = chooseWorkerLaunchers({ utilityProcess: utility }, ENTRIES);
    expect(launchers).toBeDefined();
    const engine = createEngine({ dataDir, log: () => undefined, ...launchers });
    /** The workers started through the launcher while `action` ran. */
    const launchedDuring = async <T>(action: () => Promise<T>) => {
      const before = forks.length;
      const result = await action();
      return { result, launched: forks.slice(before) };
    };
    const prediction = { path: ENTRIES.prediction, serviceName: 'Emonas prediction worker' };
    try {
      const dataset = smallHippocampus([
        'hippocampus_001',
        'hippocampus_003',
        'hippocampus_004',
        'hippocampus_006',
        'hippocampus_007',
      ]);
      const { runId, runDir } = await engineTinySearch(engine, dataset, {
        stepsPerEpoch: 1,
        valFraction: 0.2,
        testFraction: 0.2,
        cacheDir: join(temp, 'cache'),
      });
      // The candidates trained through the same launcher's training worker.
      expect(forks.length).toBeGreaterThan(0);
      expect(forks.every((f) => f.path === ENTRIES.training)).toBe(true);
      const candidateId = value(await engine.call('run.get', { runId })).front[0]?.id;
      if (candidateId === undefined) throw new Error('the tiny search has an empty front');
      const candidateDir = join(runDir, 'candidates', candidateId);

      const review = await launchedDuring(async () =>
        value(await engine.call('candidate.review', { runId, candidateId })),
      );
      expect(review.launched).toEqual([prediction]);
      expect(review.result.cases.length).toBeGreaterThan(0);
      expect(review.result.predicted).toBe(review.result.cases.length);
      expect(existsSync(join(candidateDir, 'prediction-worker.log'))).toBe(true);

      const test = await launchedDuring(async () =>
        value(await engine.call('test.evaluate', { runId, model: candidateId })),
      );
      expect(test.launched).toEqual([prediction]);
      expect(test.result.cases.length).toBeGreaterThan(0);
      expect(test.result.predicted).toBe(test.result.cases.length);

      const scans = join(temp, 'scans');
      mkdirSync(scans);
      copyFileSync(join(DEMO_IMAGES, 'hippocampus_011.nii.gz'), join(scans, 'hippocampus_011.nii.gz'));
      const applied = await launchedDuring(async () =>
        value(
          await engine.call('scans.apply', {
            runId,
            model: candidateId,
            inputs: [scans],
            folder: join(temp, 'applied'),
          }),
        ),
      );
      expect(applied.launched).toEqual([prediction]);
      expect(applied.result.failures).toEqual([]);
      expect(applied.result.scans.map((s) => s.output)).toEqual([
        join(temp, 'applied', 'hippocampus_011.nii.gz'),
      ]);
      expect(existsSync(join(temp, 'applied', 'hippocampus_011.nii.gz'))).toBe(true);

      // The same request to an engine given no launcher: its worker is forked, and predicts all the same.
      const headless = createEngine({ dataDir, log: () => undefined });
      const forked = await launchedDuring(async () =>
        value(
          await headless.call('scans.apply', {
            runId,
            model: candidateId,
            inputs: [scans],
            folder: join(temp, 'applied-headless'),
          }),
        ),
      );
      await headless.close();
      expect(forked.launched).toEqual([]);
      expect(forked.result.failures).toEqual([]);
      expect(existsSync(join(temp, 'applied-headless', 'hippocampus_011.nii.gz'))).toBe(true);
    } finally {
      await engine.close();
    }
  },
);
