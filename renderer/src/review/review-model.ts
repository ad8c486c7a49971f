// Runs in: the renderer. The review's plain logic, tested in Node: sorting the per-case table by any
// column (worst case first by default) and the columns it has; and what a per-case table shows, be it a
// candidate's validation review or a model's test evaluation.
import type { ReviewedCase, ScoreName } from '../../../core/api/review.ts';

/** 'meanDice', 'id', or '<structure>:<score>'. */
export type SortKey = string;

export interface SortOrder {
  key: SortKey;
  ascending: boolean;
}

/** Worst first: the lowest mean Dice at the top. */
export const WORST_FIRST: SortOrder = { key: 'meanDice', ascending: true };

/** A per-case table's data and its open case (MetricsTable renders one). */
export interface CaseTable {
  readonly structures: string[];
  order: SortOrder;
  readonly rows: ReviewedCase[];
  readonly caseId: string | null;
  open(caseId: string): Promise<void>;
}

export interface Column {
  key: SortKey;
  title: string;
  /** Digits after the point. */
  digits: number;
  /** True when a larger value is better (Dice, NSD), false for distances. */
  higherIsBetter: boolean;
}

const SCORE_COLUMNS: { score: ScoreName; title: string; digits: number; higherIsBetter: boolean }[] = [
  { score: 'dice', title: 'Dice', digits: 3, higherIsBetter: true },
  { score: 'hd95', title: 'HD95 mm', digits: 1, higherIsBetter: false },
  { score: 'assd', title: 'ASSD mm', digits: 2, higherIsBetter: false },
  { score: 'nsd', title: 'NSD', digits: 3, higherIsBetter: true },
];

export function columns(structures: string[]): Column[] {
  return [
    { key: 'meanDice', title: 'Mean Dice', digits: 3, higherIsBetter: true },
    ...structures.flatMap((s) =>
      SCORE_COLUMNS.map((c) => ({
        key: `${s}:${c.score}`,
        title: `${s} ${c.title}`,
        digits: c.digits,
        higherIsBetter: c.higherIsBetter,
      })),
    ),
  ];
}

export function cellValue(row: ReviewedCase, key: SortKey): number | string {
  if (key === 'id') return row.id;
  if (key === 'meanDice') return row.meanDice;
  const [structure, score] = key.split(':') as [string, ScoreName];
  return row.structures[structure]?.[score] ?? Number.NaN;
}

/** A sorted copy; ties keep the case id order, so the table never jumps between equal rows. */
export function sortCases(rows: readonly ReviewedCase[], order: SortOrder): ReviewedCase[] {
  const sign = order.ascending ? 1 : -1;
  return [...rows].sort((a, b) => {
    const x = cellValue(a, order.key);
    const y = cellValue(b, order.key);
    const byValue =
      typeof x === 'string' || typeof y === 'string' ? String(x).localeCompare(String(y)) : x - y;
    return sign * byValue || a.id.localeCompare(b.id);
  });
}

/** Clicking a column sorts by it, worst first (ascending for "higher is better"); clicking again flips it. */
export function nextOrder(
  current: SortOrder,
  column: Column | { key: 'id'; higherIsBetter: false },
): SortOrder {
  if (current.key === column.key) return { key: column.key, ascending: !current.ascending };
  return { key: column.key, ascending: column.key === 'id' ? true : column.higherIsBetter };
}
