// Runs in: any process. The patch-shape rule of method.md section 2.4 as plain arithmetic: each max-pool
// halves every side, so a network of `cells` cells needs every side to be a multiple of 2^((cells - 1) / 2).
// Here so that core/nn (which refuses a patch) and the search wizard (which explains one, through core/api)
// apply the same rule.

/** The most cells a genome may have: the network that halves the patch most often. */
export const DEEPEST_CELLS = 9;

/** What every side of the patch must be a multiple of for a network of `cells` cells. */
export function patchMultiple(cells: number): number {
  return 2 ** ((cells - 1) / 2);
}

/** The sides that are not a multiple of `multiple`. */
export function unfitSides(patch: readonly number[], multiple: number): number[] {
  return patch.filter((side) => side % multiple !== 0);
}

/** The nearest patch whose every side is a positive multiple of `multiple`, to suggest instead. */
export function nearestFit(patch: readonly number[], multiple: number): number[] {
  return patch.map((side) => Math.max(multiple, Math.round(side / multiple) * multiple));
}
