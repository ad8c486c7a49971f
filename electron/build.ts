// Runs in: a plain Node process (npm run build:electron). Bundles the main process, the preload and the
// training and prediction workers into dist/electron/: Electron runs JavaScript, not the TypeScript the
// rest of the project runs through tsx (a packaged app has no tsx to fork workers through), and a sandboxed
// preload must be one CommonJS file that requires nothing but 'electron'.
import { fileURLToPath } from 'node:url';
import { build } from 'vite';

const root = fileURLToPath(new URL('..', import.meta.url));

/** Where the bundles go, relative to the project; main.ts finds the preload and renderer relative to itself. */
export const OUTPUT = {
  folder: 'dist/electron',
  main: 'main.mjs',
  preload: 'preload.cjs',
  worker: 'training-worker.mjs',
  predictionWorker: 'prediction-worker.mjs',
} as const;

/** The preload as one CommonJS file; returns its path. */
export async function buildPreload(outDir = `${root}${OUTPUT.folder}`): Promise<string> {
  await build({
    configFile: false,
    root,
    logLevel: 'warn',
    build: {
      outDir,
      emptyOutDir: false,
      minify: false,
      target: 'node20',
      lib: { entry: `${root}electron/preload.ts`, formats: ['cjs'], fileName: () => OUTPUT.preload },
      rollupOptions: { external: ['electron'] },
    },
  });
  return `${outDir}/${OUTPUT.preload}`;
}

/** An entry as an ES module; its npm dependencies stay outside the bundle (they ship in the asar). */
async function buildModule(entry: string, fileName: string, outDir: string): Promise<string> {
  await build({
    configFile: false,
    root,
    logLevel: 'warn',
    build: {
      outDir,
      emptyOutDir: false,
      minify: false,
      target: 'node20',
      ssr: `${root}${entry}`,
      rollupOptions: { external: ['electron'], output: { format: 'es', entryFileNames: fileName } },
    },
  });
  return `${outDir}/${fileName}`;
}

export function buildMain(outDir = `${root}${OUTPUT.folder}`): Promise<string> {
  return buildModule('electron/main.ts', OUTPUT.main, outDir);
}

/** The training worker that utility processes run (electron/training-worker-entry.ts). */
export function buildWorker(outDir = `${root}${OUTPUT.folder}`): Promise<string> {
  return buildModule('electron/training-worker-entry.ts', OUTPUT.worker, outDir);
}

/** The prediction worker that utility processes run (electron/prediction-worker-entry.ts). */
export function buildPredictionWorker(outDir = `${root}${OUTPUT.folder}`): Promise<string> {
  return buildModule('electron/prediction-worker-entry.ts', OUTPUT.predictionWorker, outDir);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const preload = await buildPreload();
  const main = await buildMain();
  const worker = await buildWorker();
  const predictionWorker = await buildPredictionWorker();
  process.stdout.write(`built ${main}\nbuilt ${preload}\nbuilt ${worker}\nbuilt ${predictionWorker}\n`);
}
