// Runs in: the engine. That a search was stopped by its wall-clock budget (the demo's), kept in its folder
// (`stopped-at-budget.json`) so any engine or `emonas runs` later lists the run as stopped at its budget
// rather than paused by someone: the user chose when it ends, and it may already have its final model.
// It is still resumable. The study writes it while it still holds the run's lock, when the signal that
// stopped it carries a BudgetStopReason, so a Resume cannot slip in between; driving the run again removes
// it, as it removes failed.json: from then on the journal and the lock tell the run's state.
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import type { BudgetStop } from '../api/runs.ts';
import { readJsonSync, writeFileAtomic } from '../io/files.ts';
import { RUN_FILES } from './run-folder.ts';

interface BudgetStopFile extends BudgetStop {
  format: 'emonas-run-budget-stop';
}

/** The reason a search's signal is aborted with when its wall-clock budget, not someone, stops it. */
export interface BudgetStopReason {
  kind: 'budget-stop';
  minutes: number;
}

export function budgetStopReason(minutes: number): BudgetStopReason {
  return { kind: 'budget-stop', minutes };
}

export function isBudgetStop(reason: unknown): reason is BudgetStopReason {
  return (reason as Partial<BudgetStopReason> | null)?.kind === 'budget-stop';
}

export async function writeBudgetStop(runDir: string, minutes: number): Promise<void> {
  const stop: BudgetStopFile = { format: 'emonas-run-budget-stop', minutes, at: new Date().toISOString() };
  await writeFileAtomic(join(runDir, RUN_FILES.budgetStop), JSON.stringify(stop, null, 2) + '\n');
}

/** The budget that stopped the run's last drive, or null when something else ended it. */
export function readBudgetStop(runDir: string): BudgetStop | null {
  const value = readJsonSync(join(runDir, RUN_FILES.budgetStop)) as Partial<BudgetStopFile> | undefined;
  if (value?.format !== 'emonas-run-budget-stop') return null;
  const { minutes, at } = value;
  if (typeof minutes !== 'number' || !(minutes > 0) || typeof at !== 'string') return null;
  return { minutes, at };
}

export function clearBudgetStop(runDir: string): void {
  rmSync(join(runDir, RUN_FILES.budgetStop), { force: true });
}
