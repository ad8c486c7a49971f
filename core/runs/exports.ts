// Runs in: the engine. The run's tables, rewritten after every evaluation: pareto.csv with the reference
// implementation's columns (method.md section 7), and front.csv / candidates.csv with all of ours.
import { join } from 'node:path';
import { writeFileAtomicSync } from '../io/files.ts';
import type { ArchiveEntry } from '../search/protocol.ts';
import { RUN_FILES } from './run-folder.ts';

const REFERENCE_COLUMNS = [
  '',
  'index',
  'learning_rate',
  'node2_inp',
  'node3_inp',
  'node4_inp',
  'ops1',
  'ops2',
  'ops3',
  'ops4',
  'num_cells',
  'num_filters',
  'total_loss',
  'val_loss',
  'train_loss',
  'param_count',
];

const COLUMNS = [
  'id',
  'archive_index',
  'generation',
  'phase',
  'subproblem',
  'learning_rate',
  'filters',
  'cells',
  'node2_input',
  'node3_input',
  'node4_input',
  'op1',
  'op2',
  'op3',
  'op4',
  'params',
  'ln_params',
  'f1',
  'f1_norm',
  'f2_norm',
  'val_loss',
  'train_loss',
  'epochs',
  'predicted_f1_norm',
  'predicted_std',
  'status',
  'reason',
];

function cell(value: unknown): string {
  if (value === undefined || value === null) return '';
  const text = String(value);
  return /[",\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

function table(header: string[], rows: unknown[][]): string {
  return [header, ...rows].map((row) => row.map(cell).join(',')).join('\n') + '\n';
}

function parts(e: ArchiveEntry): { valLoss?: number; trainLoss?: number; epochs?: number } {
  return e.outcome.status === 'completed' ? e.outcome : {};
}

/** pareto.csv: front rows from the lowest f1 to the smallest network, reference column names. */
export function paretoCsv(front: readonly ArchiveEntry[]): string {
  return table(
    REFERENCE_COLUMNS,
    front.map((e, row) => {
      const g = e.spec.genome;
      return [
        row,
        e.index,
        g.learningRate,
        ...g.inputs,
        ...g.ops,
        g.cells,
        g.filters,
        e.f1,
        parts(e).valLoss,
        parts(e).trainLoss,
        e.spec.params,
      ];
    }),
  );
}

/** One row per entry with every column we know. */
export function candidatesCsv(entries: readonly ArchiveEntry[]): string {
  return table(
    COLUMNS,
    entries.map((e) => {
      const g = e.spec.genome;
      return [
        e.spec.id,
        e.index,
        e.spec.generation,
        e.spec.phase,
        e.spec.subproblem,
        g.learningRate,
        g.filters,
        g.cells,
        ...g.inputs,
        ...g.ops,
        e.spec.params,
        e.spec.f2,
        e.failed ? null : e.f1,
        e.f1Norm,
        e.f2Norm,
        parts(e).valLoss,
        parts(e).trainLoss,
        parts(e).epochs,
        e.spec.prediction?.mean,
        e.spec.prediction?.std,
        e.outcome.status,
        e.outcome.status === 'failed' ? e.outcome.reason : null,
      ];
    }),
  );
}

export function writeRunTables(
  dir: string,
  archive: readonly ArchiveEntry[],
  front: readonly ArchiveEntry[],
): void {
  writeFileAtomicSync(join(dir, RUN_FILES.pareto), paretoCsv(front));
  writeFileAtomicSync(join(dir, RUN_FILES.front), candidatesCsv(front));
  writeFileAtomicSync(join(dir, RUN_FILES.candidates), candidatesCsv(archive));
}
