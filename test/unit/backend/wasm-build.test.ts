import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { BUILDS, compileKernels, type Build } from '../../../core/backend/wasm-build.ts';

describe('the checked-in kernels', () => {
  it.each(Object.keys(BUILDS) as Build[])(
    'build %s is exactly what assembly/kernels.ts compiles to (run `npm run build:wasm` after editing it)',
    async (build) => {
      const built = await compileKernels(build);
      const checkedIn = new Uint8Array(readFileSync(BUILDS[build].binary));
      expect(built.length).toBe(checkedIn.length);
      expect(Buffer.compare(Buffer.from(built), Buffer.from(checkedIn))).toBe(0);
    },
  );
});
