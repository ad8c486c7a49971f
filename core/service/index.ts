// Runs in: the engine (the Electron main process, or `emonas serve`). The engine object every transport
// wraps: it parses each request against the contract table (core/api/methods.ts), dispatches it to the
// service function the table below names, answers with a result envelope, and publishes events at the
// rates the events table allows. Adding a method is one entry in core/api/methods.ts and one here.
import { homedir } from 'node:os';
import { isAbsolute, join } from 'node:path';
import { EmonasError, fileSystemError } from '../base/errors.ts';
import type { ApiClient, ApiEndpoint, Unsubscribe } from '../api/client.ts';
import type { CaseVolume } from '../api/datasets.ts';
import { settle, type Result } from '../api/envelope.ts';
import type { EventName, EventPayload } from '../api/events.ts';
import {
  isMethodName,
  methods,
  type MethodInput,
  type MethodName,
  type MethodOutput,
} from '../api/methods.ts';
import { EventThrottle } from '../api/throttle.ts';
import { readRunManifest } from '../runs/run-folder.ts';
import { inspectDataset, loadCase, type DatasetReport } from './datasets.ts';
import { doctor } from './doctor.ts';
import { exportModel, exportPredictions, exportReport } from './export.ts';
import { DatasetLibrary } from './library.ts';
import type { CandidateRef } from './review-candidate.ts';
import { cineSlice, reviewCandidate, reviewCase, reviewCine, reviewPrediction } from './review.ts';
import { SearchJobs } from './search-jobs.ts';
import { appliedScanCine, appliedScanVolume } from './applied-scan.ts';
import { applyToScans } from './apply-scans.ts';
import { FinalJobs } from './final-jobs.ts';
import { runModelDir } from './run-model.ts';
import { evaluateTest, testCase } from './test-evaluation.ts';
import { volumeData } from './volume-data.ts';
import { estimateSearch, type WorkerLauncher } from './search-estimate.ts';
import type { PredictionLauncher } from './review-worker-serve.ts';

/** What only the process hosting the engine can do, e.g. the desktop app's native folder dialog. */
export interface EngineHost {
  chooseFolder?(title: string | undefined): Promise<string | null>;
}

export interface EngineOptions {
  /** Where the dataset library and runs live (see defaultDataDir). */
  dataDir: string;
  host?: EngineHost;
  /** Where stack traces of unexpected errors go; they never cross the API. */
  log?: (message: string) => void;
  /**
   * Starts a training worker process: Electron passes its utilityProcess launcher (electron/
   * worker-launcher.ts); absent, workers are forked with child_process (`emonas serve`, the command line).
   */
  launchWorker?: WorkerLauncher;
  /**
   * Starts the prediction worker of a review, an export, a test evaluation or scans applied, as
   * launchWorker starts training workers (Electron: a utility process; absent: child_process).
   */
  launchPrediction?: PredictionLauncher;
}

export interface Engine extends ApiClient, ApiEndpoint {
  readonly dataDir: string;
  /** Pauses running searches (they stay resumable) and sends held events; calls after this still answer. */
  close(): Promise<void>;
}

interface Context {
  library: DatasetLibrary<DatasetReport>;
  searches: SearchJobs;
  finals: FinalJobs;
  host: EngineHost;
  launchWorker: WorkerLauncher | undefined;
  launchPrediction: PredictionLauncher | undefined;
  emit<E extends EventName>(event: E, payload: EventPayload<E>): void;
}

type Handlers = { [M in MethodName]: (input: MethodInput<M>, ctx: Context) => Promise<MethodOutput<M>> };

const handlers: Handlers = {
  'app.doctor': () => doctor(),
  'app.chooseFolder': async ({ title }, ctx) => {
    if (!ctx.host.chooseFolder) {
      throw new EmonasError(
        'bad_request',
        'Choosing a folder in a dialog needs the desktop app; type the full path of the folder instead.',
      );
    }
    return { folder: await ctx.host.chooseFolder(title) };
  },
  'dataset.inspect': ({ folder, allowLinks }, ctx) => inspect(folder, allowLinks === true, ctx),
  'dataset.import': async ({ folder, name, copy, allowLinks }, ctx) => {
    const report = await inspect(folder, allowLinks === true, ctx);
    const record = await ctx.library.add(name, report, { copy: copy === true });
    ctx.emit('dataset.imported', { record });
    return record;
  },
  'dataset.list': (_input, ctx) => ctx.library.list(),
  'dataset.get': ({ name }, ctx) => ctx.library.get(name),
  'dataset.remove': async ({ name }, ctx) => {
    await ctx.library.remove(name);
    ctx.emit('dataset.removed', { name });
    return { name };
  },
  'case.volume': async ({ dataset, caseId }, ctx) => {
    const { entry, report } = await libraryCase(dataset, caseId, ctx);
    // The stored report names the files; they are read only inside its folder, as at import.
    const { image, label } = await loadCase(entry, {
      root: report.root,
      allowLinks: report.allowLinks === true,
    });
    const volume: CaseVolume = { datasetName: dataset, caseId, image: volumeData(image) };
    if (label) volume.label = volumeData(label);
    return volume;
  },
  'case.cine': async ({ dataset, caseId, slice }, ctx) => {
    const { entry, report } = await libraryCase(dataset, caseId, ctx);
    // As case.volume: the cine is read only inside the dataset folder, links only if allowed at import.
    return cineSlice(entry, slice, { root: report.root, allowLinks: report.allowLinks === true });
  },
  'search.estimate': async ({ dataset, config: asked, problem, workers, protocol }, ctx) => {
    const config = configWithProtocol(asked, protocol);
    const { record } = await ctx.library.get(dataset);
    return estimateSearch(
      {
        folder: record.root,
        ...(config && { config }),
        problem: { ...problem, ...(record.allowLinks === true && { allowLinks: true }) },
        ...(workers && { workers }),
      },
      { ...(ctx.launchWorker && { launchWorker: ctx.launchWorker }) },
    );
  },
  'search.start': async ({ config: asked, problem, dataset, workers, protocol }, ctx) => {
    const config = configWithProtocol(asked, protocol);
    if (dataset === undefined) return ctx.searches.start({ config, problem, workers });
    const { record } = await ctx.library.get(dataset);
    return ctx.searches.start({
      config,
      problem: {
        ...problem,
        kind: 'dataset',
        dataset: record.root,
        ...(record.allowLinks === true && { allowLinks: true }),
      },
      workers,
    });
  },
  'search.cancel': ({ runId }, ctx) => ctx.searches.cancel(runId),
  'search.pause': async ({ runId }, ctx) => ctx.searches.pause(runId),
  'search.resume': async ({ runId }, ctx) => ctx.searches.resume(runId),
  'run.list': async (_input, ctx) => ctx.searches.list(),
  'run.get': async ({ runId }, ctx) => ctx.searches.get(runId),
  'run.progress': async ({ runId }, ctx) => ctx.searches.progress(runId),
  'candidate.curves': async ({ runId, candidateId }, ctx) => ctx.searches.curves(runId, candidateId),
  'candidate.review': ({ runId, candidateId }, ctx) =>
    reviewCandidate(candidateRef(runId, candidateId, ctx), {
      onProgress: (done, total, caseId) =>
        ctx.emit('review.progressed', { runId, candidateId, done, total, caseId }),
    }),
  'review.case': ({ runId, candidateId, caseId }, ctx) =>
    reviewCase(candidateRef(runId, candidateId, ctx), caseId),
  'review.prediction': ({ runId, candidateId, caseId }, ctx) =>
    reviewPrediction(candidateRef(runId, candidateId, ctx), caseId),
  'review.cine': ({ runId, candidateId, caseId, slice }, ctx) =>
    reviewCine(candidateRef(runId, candidateId, ctx), caseId, slice),
  'prediction.export': ({ runId, candidateId, folder, overwrite }, ctx) =>
    exportPredictions(candidateRef(runId, candidateId, ctx), folder, overwrite),
  'model.export': ({ runId, candidateId, folder, format, overwrite }, ctx) =>
    exportModel(candidateRef(runId, candidateId, ctx), folder, format, overwrite),
  'report.export': ({ runId, candidateId, file, overwrite }, ctx) =>
    exportReport(candidateRef(runId, candidateId, ctx), file, overwrite),
  'final.start': async ({ runId, ...request }, ctx) => ctx.finals.start(runId, request),
  'final.pause': async ({ runId }, ctx) => ctx.finals.pause(runId),
  'final.resume': async ({ runId }, ctx) => ctx.finals.resume(runId),
  'final.cancel': ({ runId }, ctx) => ctx.finals.cancel(runId),
  'final.get': async ({ runId }, ctx) => ctx.finals.get(runId),
  'final.list': async (_input, ctx) => ctx.finals.list(),
  'test.evaluate': ({ runId, model = 'final' }, ctx) =>
    evaluateTest(runDirOf(runId, ctx), runId, model, {
      onProgress: (done, total, caseId) => ctx.emit('test.progressed', { runId, model, done, total, caseId }),
      ...(ctx.launchPrediction && { launchPrediction: ctx.launchPrediction }),
    }),
  'test.case': ({ runId, model = 'final', caseId }, ctx) =>
    testCase(runDirOf(runId, ctx), runId, model, caseId),
  'scans.apply': ({ runId, model = 'final', inputs, folder, overwrite }, ctx) =>
    applyToScans(
      {
        modelDir: runModelDir(runDirOf(runId, ctx), model),
        inputs,
        folder,
        ...(overwrite !== undefined && { overwrite }),
      },
      {
        onProgress: (done, total, file) => ctx.emit('scans.progressed', { folder, done, total, file }),
        ...(ctx.launchPrediction && { launchPrediction: ctx.launchPrediction }),
      },
    ),
  'scans.volume': ({ runId, model = 'final', input, frame, output }, ctx) =>
    appliedScanVolume(runModelDir(runDirOf(runId, ctx), model), {
      input,
      output,
      ...(frame !== undefined && { frame }),
    }),
  'scans.cine': ({ input, slice }) => appliedScanCine(input, slice),
};

/** A search request's configuration with its `protocol` in it, as search.start and search.estimate take both. */
function configWithProtocol(
  config: Record<string, unknown> | undefined,
  protocol: MethodInput<'search.start'>['protocol'],
): Record<string, unknown> | undefined {
  return protocol === undefined ? config : { ...config, protocol };
}

/** A run of this engine; runModelDir reads its run.json to make sure it is one. */
function runDirOf(runId: string, ctx: Context): string {
  return join(ctx.searches.runsRoot, runId);
}

/**
 * A candidate of one of this engine's runs, predicted through this engine's launcher; the run must exist
 * (its run.json is read to make sure).
 */
function candidateRef(runId: string, candidateId: string, ctx: Context): CandidateRef {
  const runDir = join(ctx.searches.runsRoot, runId);
  readRunManifest(runDir);
  return {
    runDir,
    runId,
    candidateId,
    ...(ctx.launchPrediction && { launchPrediction: ctx.launchPrediction }),
  };
}

async function libraryCase(dataset: string, caseId: string, ctx: Context) {
  const { report } = await ctx.library.get(dataset);
  const entry = report.cases.find((c) => c.id === caseId);
  if (!entry) {
    throw new EmonasError(
      'not_found',
      `Dataset '${dataset}' has no case '${caseId}'; pick one from its case list.`,
    );
  }
  return { entry, report };
}

async function inspect(folder: string, allowLinks: boolean, ctx: Context): Promise<DatasetReport> {
  if (!isAbsolute(folder)) {
    throw new EmonasError(
      'bad_request',
      `The folder '${folder}' is not a full path; give it from the top, e.g. /data/Task04_Hippocampus.`,
      { file: folder },
    );
  }
  return inspectDataset(folder, {
    ...(allowLinks && { allowLinks: true }),
    onProgress: (done, total) => ctx.emit('inspection.progressed', { folder, done, total }),
  });
}

/**
 * ~/.emonas, or EMONAS_DATA_DIR when set: the command line and the desktop app share one library. Runs the
 * app starts live in its runs/ subfolder.
 */
export function defaultDataDir(): string {
  return process.env.EMONAS_DATA_DIR ?? join(homedir(), '.emonas');
}

export function createEngine(options: EngineOptions): Engine {
  const log = options.log ?? ((message: string) => process.stderr.write(message + '\n'));
  const listeners = new Set<(event: EventName, payload: unknown) => void>();
  const throttle = new EventThrottle((event, payload) => {
    for (const listener of listeners) {
      try {
        listener(event, payload);
      } catch (err) {
        log(`emonas engine: an event listener failed on ${event}: ${(err as Error).stack ?? String(err)}`);
      }
    }
  });
  const emit: Context['emit'] = (event, payload) => throttle.push(event, payload);
  const ctx: Context = {
    library: new DatasetLibrary<DatasetReport>(options.dataDir),
    searches: new SearchJobs(join(options.dataDir, 'runs'), emit, log, {
      ...(options.launchWorker && { launchWorker: options.launchWorker }),
    }),
    finals: new FinalJobs(join(options.dataDir, 'runs'), emit, log, options.launchWorker),
    host: options.host ?? {},
    launchWorker: options.launchWorker,
    launchPrediction: options.launchPrediction,
    emit,
  };

  const callUnknown = (method: unknown, input: unknown): Promise<Result<unknown>> =>
    settle(async () => {
      if (!isMethodName(method)) {
        throw new EmonasError(
          'bad_request',
          `There is no API method '${String(method)}'; the engine may be older than the app, so update both together.`,
        );
      }
      const parsed = methods[method].input.parse(input, '');
      const handler = handlers[method] as (input: unknown, ctx: Context) => Promise<unknown>;
      try {
        return await handler(parsed, ctx);
      } catch (err) {
        if (err instanceof EmonasError) throw err;
        // A file-system error is the user's to fix, said in words; only a fault of ours earns a stack trace.
        const inWords = fileSystemError(err);
        if (inWords) throw inWords;
        log(`emonas engine: ${method} failed: ${(err as Error).stack ?? String(err)}`);
        throw err;
      }
    });

  return {
    dataDir: options.dataDir,
    call: <M extends MethodName>(method: M, input: MethodInput<M>) =>
      callUnknown(method, input) as Promise<Result<MethodOutput<M>>>,
    callUnknown,
    on<E extends EventName>(event: E, listener: (payload: EventPayload<E>) => void): Unsubscribe {
      const relay = (name: EventName, payload: unknown) => {
        if (name === event) listener(payload as EventPayload<E>);
      };
      listeners.add(relay);
      return () => listeners.delete(relay);
    },
    onAnyEvent(listener): Unsubscribe {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    async close() {
      await ctx.searches.close();
      await ctx.finals.close();
      throttle.flush();
    },
  };
}
