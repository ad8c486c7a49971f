import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { compileKernels, KERNELS_BINARY } from '../../../core/backend/wasm-build.ts';

describe('the checked-in kernels.wasm', () => {
  it('is exactly what assembly/kernels.ts compiles to (run `npm run build:wasm` after editing it)', async () => {
    const built = await compileKernels();
    const checkedIn = new Uint8Array(readFileSync(KERNELS_BINARY));
    expect(built.length).toBe(checkedIn.length);
    expect(Buffer.compare(Buffer.from(built), Buffer.from(checkedIn))).toBe(0);
  });
});
