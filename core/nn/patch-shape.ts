// Runs in: any process. The patch-shape rule of method.md section 2.4 (each max-pool halves every side, so
// every side must be divisible by 2^pools; the arithmetic is core/base/patch-rule.ts, shared with the
// search wizard) as a check that refuses a genome's patch in words. No tfjs here.

import { EmonasError } from '../base/errors.ts';
import { nearestFit, patchMultiple, unfitSides } from '../base/patch-rule.ts';
import type { Genome } from '../searchspace/genome.ts';

/** Throws 'invalid_genome' naming the offending sides when the patch cannot be pooled (cells - 1) / 2 times. */
export function checkPatchShape(genome: Pick<Genome, 'cells'>, patch: readonly number[]): void {
  if (genome.cells !== 5 && genome.cells !== 7 && genome.cells !== 9) {
    throw new EmonasError(
      'invalid_genome',
      `The number of cells is ${String(genome.cells)}, but must be 5, 7 or 9.`,
    );
  }
  const pools = (genome.cells - 1) / 2;
  const multiple = patchMultiple(genome.cells);
  const shown = patch.join('x');
  if (patch.length !== 3 || patch.some((side) => !Number.isInteger(side) || side < 1)) {
    throw new EmonasError('invalid_genome', `The patch ${shown} must have three whole, positive sides.`);
  }
  const bad = unfitSides(patch, multiple);
  if (bad.length > 0) {
    throw new EmonasError(
      'invalid_genome',
      `The patch ${shown} does not fit a ${genome.cells}-cell network, which halves it ${pools} times: every ` +
        `side must be a multiple of ${multiple}, and ${bad.join(', ')} ${bad.length === 1 ? 'is' : 'are'} not. ` +
        `Choose a patch such as ${nearestFit(patch, multiple).join('x')}.`,
    );
  }
}
