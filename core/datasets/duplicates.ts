// Runs in: any process. Keeps case ids unique, since splits, results and predictions are keyed by them.
import type { CaseEntry } from './case-table.ts';
import { displayPath } from './files.ts';

/**
 * Every copy of an id after the first becomes broken and is renamed `<id>#2`, `#3`, ..., so the first stays
 * usable and the report still shows where the copy came from.
 */
export function flagDuplicateIds(cases: CaseEntry[], root: string): void {
  const seen = new Map<string, { first: CaseEntry; count: number }>();
  for (const entry of cases) {
    const prior = seen.get(entry.id);
    if (prior === undefined) {
      seen.set(entry.id, { first: entry, count: 1 });
      continue;
    }
    prior.count++;
    entry.problems.push({
      message: `Case ${entry.id} appears more than once (${displayPath(root, prior.first.image)} and ${displayPath(root, entry.image)}); only the first is used.`,
      file: entry.image,
    });
    entry.id = `${entry.id}#${prior.count}`;
  }
}
