// Runs in: the `npm run build:wasm` command's process, and the test that checks that the checked-in
// kernels.wasm is exactly what its source compiles to. Compiles assembly/kernels.ts with fixed flags.

import { writeFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import asc from 'assemblyscript/asc';

export const KERNELS_SOURCE = fileURLToPath(new URL('./assembly/kernels.ts', import.meta.url));
export const KERNELS_BINARY = fileURLToPath(new URL('./kernels.wasm', import.meta.url));

/**
 * SIMD and threads (shared memory, atomics) on; memory imported so every thread's instance shares it; the
 * stub runtime because the module never allocates; no relaxed SIMD (its multiply-add measured slower on
 * Node 20's V8 and needs a flag there).
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

export async function compileKernels(): Promise<Uint8Array> {
  let binary: Uint8Array | undefined;
  const messages: string[] = [];
  const sink = {
    write(chunk: Uint8Array | string): void {
      messages.push(typeof chunk === 'string' ? chunk : new TextDecoder().decode(chunk));
    },
  };
  const result = await asc.main([KERNELS_SOURCE, '--outFile', 'kernels.wasm', ...ASC_FLAGS], {
    stdout: sink,
    stderr: sink,
    writeFile: (name, contents) => {
      if (name.endsWith('.wasm') && typeof contents !== 'string') binary = contents;
    },
  });
  if (result.error !== null || binary === undefined) {
    throw new Error(`AssemblyScript could not compile ${KERNELS_SOURCE}:\n${messages.join('')}`);
  }
  return binary;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const binary = await compileKernels();
  writeFileSync(KERNELS_BINARY, binary);
  process.stdout.write(`wrote ${KERNELS_BINARY} (${binary.length} bytes)\n`);
}
