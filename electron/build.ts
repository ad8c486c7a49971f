// Runs in: a plain Node process (npm run build:electron). Bundles the main process and the preload into
// dist/electron/: Electron runs JavaScript, not the TypeScript the rest of the project runs through tsx, and
// a sandboxed preload must be one CommonJS file that requires nothing but 'electron'.
import { fileURLToPath } from 'node:url';
import { build } from 'vite';

const root = fileURLToPath(new URL('..', import.meta.url));

/** Where the bundles go, relative to the project; main.ts finds the preload and renderer relative to itself. */
export const OUTPUT = { folder: 'dist/electron', main: 'main.mjs', preload: 'preload.cjs' } as const;

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

/** The main process as an ES module; its npm dependencies stay outside the bundle (they ship in the asar). */
export async function buildMain(outDir = `${root}${OUTPUT.folder}`): Promise<string> {
  await build({
    configFile: false,
    root,
    logLevel: 'warn',
    build: {
      outDir,
      emptyOutDir: false,
      minify: false,
      target: 'node20',
      ssr: `${root}electron/main.ts`,
      rollupOptions: { external: ['electron'], output: { format: 'es', entryFileNames: OUTPUT.main } },
    },
  });
  return `${outDir}/${OUTPUT.main}`;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const preload = await buildPreload();
  const main = await buildMain();
  process.stdout.write(`built ${main}\nbuilt ${preload}\n`);
}
