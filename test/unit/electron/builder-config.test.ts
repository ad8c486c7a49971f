import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { OUTPUT, buildMain, buildPredictionWorker, buildWorker } from '../../../electron/build.ts';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const require = createRequire(import.meta.url);
const { minimatch } = require('minimatch') as {
  minimatch: (path: string, pattern: string, o?: object) => boolean;
};

interface BuilderConfig {
  directories: { buildResources: string; output: string };
  extraMetadata: { main: string };
  files: (string | { filter: string[] })[];
  asar: boolean;
  asarUnpack: string[];
  extraResources: { from: string; to: string }[];
  electronFuses: Record<string, boolean>;
  linux: { target: string[]; icon: string };
  win: { target: string[]; icon: string };
  mac: { target: string[]; icon: string };
}

let config: BuilderConfig;
beforeAll(async () => {
  // electron-builder's own loader and schema check, as `electron-builder` runs them.
  const builder = require('app-builder-lib/out/util/config/config.js') as {
    getConfig(dir: string, path: null, options: null): Promise<unknown>;
    validateConfiguration(config: unknown, logger: { isEnabled: boolean; add(): void }): Promise<void>;
  };
  config = (await builder.getConfig(root, null, null)) as BuilderConfig;
  await builder.validateConfiguration(config, { isEnabled: false, add: () => undefined });
});

/** Every file under a folder, relative to the project. */
function filesUnder(folder: string): string[] {
  return readdirSync(join(root, folder), { recursive: true, encoding: 'utf8' })
    .map((f) => join(folder, f))
    .filter((f) => statSync(join(root, f)).isFile());
}

describe('electron-builder.yml', () => {
  it('is accepted by electron-builder and targets AppImage, deb, nsis and dmg', () => {
    expect(config.linux.target).toEqual(['AppImage', 'deb']);
    expect(config.win.target).toEqual(['nsis']);
    expect(config.mac.target).toEqual(['dmg']);
    expect(config.asar).toBe(true);
  });

  it('references icons that exist, in the format each platform needs', () => {
    const magic = (path: string, n: number) => readFileSync(join(root, path)).subarray(0, n);
    expect(magic(config.linux.icon, 8)).toEqual(
      Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    );
    expect(magic(config.win.icon, 4)).toEqual(Buffer.from([0, 0, 1, 0]));
    expect(magic(config.mac.icon, 4).toString('ascii')).toBe('icns');
    expect(existsSync(join(root, config.directories.buildResources))).toBe(true);
    expect(config.extraResources.length).toBeGreaterThan(0);
    for (const { from } of config.extraResources) expect(existsSync(join(root, from)), from).toBe(true);
  });

  it('packs the bundles electron/build.ts writes, and its main entry builds from the sources', async () => {
    expect(config.extraMetadata.main).toBe(`${OUTPUT.folder}/${OUTPUT.main}`);
    // The loader normalises `files` to filter objects.
    const patterns = config.files.flatMap((f) => (typeof f === 'string' ? [f] : f.filter));
    const packed = (path: string) =>
      patterns.some((p) => !p.startsWith('!') && minimatch(path, p, { dot: true })) &&
      !patterns.some((p) => p.startsWith('!') && minimatch(path, p.slice(1), { dot: true }));
    for (const path of [
      config.extraMetadata.main,
      `${OUTPUT.folder}/${OUTPUT.preload}`,
      `${OUTPUT.folder}/${OUTPUT.worker}`,
      `${OUTPUT.folder}/${OUTPUT.predictionWorker}`,
      'dist/renderer/index.html',
      'dist/renderer/assets/index-abc.js',
      'package.json',
    ]) {
      expect(packed(path), path).toBe(true);
    }
    expect(packed('electron/main.ts')).toBe(false);
    const out = mkdtempSync(join(tmpdir(), 'emonas-main-'));
    const main = await buildMain(out);
    expect(relative(out, main)).toBe(OUTPUT.main);
    const code = readFileSync(main, 'utf8');
    expect(code).toMatch(/from "electron"/);
    expect(code).toContain('preload.cjs');
    // Utility processes run the bundled training and prediction workers: a packaged app has no tsx to fork
    // TypeScript with.
    expect(code).toContain(OUTPUT.worker);
    expect(code).toContain(OUTPUT.predictionWorker);
    for (const [build, name] of [
      [buildWorker, OUTPUT.worker],
      [buildPredictionWorker, OUTPUT.predictionWorker],
    ] as const) {
      const worker = await build(out);
      expect(relative(out, worker)).toBe(name);
      const workerCode = readFileSync(worker, 'utf8');
      expect(workerCode).toContain('parentPort');
      expect(workerCode).not.toMatch(/from "tsx/);
    }
  });

  it('keeps native TensorFlow bindings and every .wasm file out of the asar', () => {
    const unpacked = (path: string) => config.asarUnpack.some((p) => minimatch(path, p, { dot: true }));
    const wasm = filesUnder('node_modules/@tensorflow/tfjs-backend-wasm').filter((f) => f.endsWith('.wasm'));
    expect(wasm.length).toBeGreaterThan(0);
    for (const file of wasm) expect(unpacked(file), file).toBe(true);
    for (const file of [
      'node_modules/@tensorflow/tfjs-node/lib/napi-v8/tfjs_binding.node',
      'node_modules/@tensorflow/tfjs-node/deps/lib/libtensorflow.so.2',
      'node_modules/@tensorflow/tfjs-node-gpu/deps/lib/libtensorflow.so.2.9.1',
      'node_modules/@tensorflow/tfjs-node-gpu/lib/napi-v8/tensorflow.dll',
      'node_modules/some-addon/build/Release/addon.node',
    ]) {
      expect(unpacked(file), file).toBe(true);
    }
    expect(unpacked('node_modules/@tensorflow/tfjs-core/dist/tf-core.node.js')).toBe(false);
  });

  it('sets the Electron fuses that close the binary to outside code', () => {
    expect(config.electronFuses).toEqual({
      runAsNode: false,
      enableCookieEncryption: true,
      enableNodeOptionsEnvironmentVariable: false,
      enableNodeCliInspectArguments: false,
      enableEmbeddedAsarIntegrityValidation: true,
      onlyLoadAppFromAsar: true,
      loadBrowserProcessSpecificV8Snapshot: false,
      grantFileProtocolExtraPrivileges: false,
    });
  });
});
