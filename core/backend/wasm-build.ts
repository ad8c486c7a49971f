// Runs in: the `npm run build:wasm` command's process, and the test that checks that the checked-in
// kernels.wasm is exactly what its source compiles to. Compiles assembly/kernels.ts with fixed flags.

import { writeFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import asc from 'assemblyscript/asc';

export const KERNELS_SOURCE = fileURLToPath(new URL('./assembly/kernels.ts', import.meta.url));

/** The two builds of the one source: plain SIMD everywhere, and with relaxed SIMD's fused multiply-add. */
export const BUILDS = {
  plain: { binary: fileURLToPath(new URL('./kernels.wasm', import.meta.url)), extra: [] as string[] },
  relaxed: {
    binary: fileURLToPath(new URL('./kernels-relaxed.wasm', import.meta.url)),
    extra: ['--enable', 'relaxed-simd'],
  },
};
export type Build = keyof typeof BUILDS;

/**
 * SIMD and threads (shared memory, atomics) on; memory imported so every thread's instance shares it; the
 * stub runtime because the module never allocates.
 */
export const ASC_FLAGS = [
  '-O3',
  '--noAssert',
  '--runtime',
  'stub',
  '--enable',
  'simd',
  '--enable',
  'threads',
  '--importMemory',
  '--noExportMemory',
  '--sharedMemory',
  '--initialMemory',
  '1',
  '--maximumMemory',
  '65536',
];

export async function compileKernels(build: Build): Promise<Uint8Array> {
  let binary: Uint8Array | undefined;
  const messages: string[] = [];
  const sink = {
    write(chunk: Uint8Array | string): void {
      messages.push(typeof chunk === 'string' ? chunk : new TextDecoder().decode(chunk));
    },
  };
  const result = await asc.main(
    [KERNELS_SOURCE, '--outFile', 'kernels.wasm', ...ASC_FLAGS, ...BUILDS[build].extra],
    {
      stdout: sink,
      stderr: sink,
      writeFile: (name, contents) => {
        if (name.endsWith('.wasm') && typeof contents !== 'string') binary = contents;
      },
    },
  );
  if (result.error !== null || binary === undefined) {
    throw new Error(`AssemblyScript could not compile ${KERNELS_SOURCE}:\n${messages.join('')}`);
  }
  return binary;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  for (const build of Object.keys(BUILDS) as Build[]) {
    const binary = await compileKernels(build);
    writeFileSync(BUILDS[build].binary, binary);
    process.stdout.write(`wrote ${BUILDS[build].binary} (${binary.length} bytes)\n`);
  }
}
