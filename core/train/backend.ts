// Runs in: a training worker, and the engine when it reports (emonas doctor). Chooses the TensorFlow.js
// backend training runs on: native TensorFlow with CUDA, then native TensorFlow on the CPU, then pure
// tfjs on the CPU (the project's fast 'emonas-cpu' engine when it registers, else tfjs's own 'cpu'),
// and says in words a user can act on why each better one was skipped. The wasm backend is never used
// for training: its Conv3D input gradient is wrong in tfjs 4.22 (stack-notes section 1).
import { createRequire } from 'node:module';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { EmonasError } from '../base/errors.ts';

export interface BackendStatus {
  /** The tfjs backend name: 'tensorflow' for both native packages, hence the -gpu suffix here. */
  name: string;
  available: boolean;
  /** Why it is not used, in words a user can act on; absent for the one in use and usable ones. */
  reason?: string;
}

export interface BackendChoice {
  /** The backend training uses. */
  backend: string;
  /** Every backend considered, best first. */
  backends: BackendStatus[];
}

export interface BackendCandidate {
  name: string;
  /** The tfjs backend to activate once loaded. */
  tfjsName: string;
  /** Loads and registers the backend; throws an Error whose message is the reason it is unusable. */
  load(): Promise<void>;
  /** A cheap check for a backend ranked below the one in use: the reason it would not load, if known. */
  probe(): Promise<string | undefined>;
}

const require = createRequire(import.meta.url);

function installed(pkg: string): boolean {
  try {
    require.resolve(`${pkg}/package.json`);
    return true;
  } catch {
    return false;
  }
}

function nativeCandidate(name: string, pkg: string, what: string, fix: string): BackendCandidate {
  return {
    name,
    tfjsName: 'tensorflow',
    async load() {
      if (!installed(pkg)) {
        throw new Error(
          `${pkg} is not installed. It is optional: its install script downloads libtensorflow (${what}) from ` +
            `storage.googleapis.com, and on this machine that download failed or there was no network, so npm ` +
            `left it out. ${fix}`,
        );
      }
      try {
        await import(/* @vite-ignore */ pkg);
      } catch (err) {
        throw new Error(`${pkg} is installed but does not load: ${(err as Error).message}. ${fix}`, {
          cause: err,
        });
      }
    },
    async probe() {
      return installed(pkg)
        ? undefined
        : `${pkg} is not installed (optional; it needs a libtensorflow download).`;
    },
  };
}

const FAST_CPU_MODULE = '../backend/index.ts';

export function defaultCandidates(): BackendCandidate[] {
  return [
    nativeCandidate(
      'tensorflow-gpu',
      '@tensorflow/tfjs-node-gpu',
      'the CUDA build, about 400 MB',
      'To train on an NVIDIA GPU, install the NVIDIA driver, CUDA 11.2 and cuDNN 8.1, then run ' +
        '`npm install @tensorflow/tfjs-node-gpu` with internet access.',
    ),
    nativeCandidate(
      'tensorflow',
      '@tensorflow/tfjs-node',
      'the CPU build, about 100 MB',
      'To train with native TensorFlow on the CPU, run `npm install @tensorflow/tfjs-node` with internet access.',
    ),
    {
      name: 'emonas-cpu',
      tfjsName: 'emonas-cpu',
      async load() {
        let mod: { registerFastCpuBackend?: () => Promise<string> };
        try {
          mod = (await import(/* @vite-ignore */ FAST_CPU_MODULE)) as typeof mod;
        } catch (err) {
          throw new Error(
            `The fast CPU engine (core/backend) could not be loaded: ${(err as Error).message}`,
            { cause: err },
          );
        }
        if (typeof mod.registerFastCpuBackend !== 'function') {
          throw new Error('The fast CPU engine (core/backend) does not export registerFastCpuBackend.');
        }
        await mod.registerFastCpuBackend();
      },
      async probe() {
        try {
          await import(/* @vite-ignore */ FAST_CPU_MODULE);
          return undefined;
        } catch (err) {
          return `The fast CPU engine (core/backend) could not be loaded: ${(err as Error).message}`;
        }
      },
    },
    {
      name: 'cpu',
      tfjsName: 'cpu',
      async load() {},
      async probe() {
        return undefined;
      },
    },
  ];
}

/**
 * tfjs's cpu backends print "install our node backend" on their first tensor; emonas doctor explains
 * the backends properly, so that first write happens here with the warning muted.
 */
function silenceNodeBanner(): void {
  const warn = console.warn;
  console.warn = () => undefined;
  try {
    tf.tensor1d([0]).dispose();
  } finally {
    console.warn = warn;
  }
}

const WASM_STATUS: BackendStatus = {
  name: 'wasm',
  available: false,
  reason:
    'Never used for training: in TensorFlow.js 4.22 its Conv3D input gradient is wrong, so a network would ' +
    'silently learn from wrong gradients.',
};

/**
 * Activates the best backend that loads. `only` restricts the choice to one name (e.g. from
 * EMONAS_BACKEND), which is an error when that one is unusable.
 */
export async function selectBackend(
  options: { only?: string; candidates?: BackendCandidate[] } = {},
): Promise<BackendChoice> {
  const candidates = options.candidates ?? defaultCandidates();
  const backends: BackendStatus[] = [];
  let chosen: string | undefined;
  for (const c of candidates) {
    if (chosen !== undefined || (options.only !== undefined && options.only !== c.name)) {
      const problem = await c.probe();
      const why =
        chosen !== undefined
          ? `${chosen} is preferred`
          : `EMONAS_BACKEND restricts training to ${options.only}`;
      backends.push(
        problem === undefined
          ? { name: c.name, available: true, reason: `Not used: ${why}.` }
          : { name: c.name, available: false, reason: problem },
      );
      continue;
    }
    try {
      await c.load();
      if (!(await tf.setBackend(c.tfjsName)))
        throw new Error(`tfjs could not initialise the ${c.tfjsName} backend.`);
      await tf.ready();
      silenceNodeBanner();
      chosen = c.name;
      backends.push({ name: c.name, available: true });
    } catch (err) {
      backends.push({ name: c.name, available: false, reason: (err as Error).message });
    }
  }
  backends.push(WASM_STATUS);
  if (chosen === undefined) {
    const why = backends.find((b) => b.name === options.only)?.reason ?? 'no backend loaded';
    throw new EmonasError(
      'backend_unavailable',
      options.only !== undefined
        ? `The training backend ${options.only} named by EMONAS_BACKEND is not usable (${why}); unset EMONAS_BACKEND or name one of ${candidates.map((c) => c.name).join(', ')}.`
        : `No training backend could be loaded: ${why}`,
    );
  }
  return { backend: chosen, backends };
}
