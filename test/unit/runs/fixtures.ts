// Shared by the run tests: a small SaMEA on the formula problem that reaches exploitation quickly.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isDecision, readJournal } from '../../../core/runs/journal.ts';
import { RUN_FILES } from '../../../core/runs/run-folder.ts';

/** 30 trees instead of 100 keeps forest fits cheap; the resume logic does not depend on the count. */
export const RUN_CONFIG = {
  preset: 'quick',
  seed: 11,
  population: 6,
  generations: 7,
  learningGenerations: 3,
  surrogate: { trees: 30 },
};

export function tempRoot(): string {
  return mkdtempSync(join(tmpdir(), 'emonas-runs-'));
}

/** The journal's decision lines, verbatim. */
export function decisionLines(runDir: string): string[] {
  return readFileSync(join(runDir, RUN_FILES.journal), 'utf8')
    .split('\n')
    .filter((line) => line.length > 0 && isDecision(JSON.parse(line)));
}

export function resultIds(runDir: string): string[] {
  return readJournal(join(runDir, RUN_FILES.journal))
    .records.filter((r) => r.t === 'result')
    .map((r) => (r as { id: string }).id);
}
