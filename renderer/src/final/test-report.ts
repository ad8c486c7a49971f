// Runs in: the renderer. The dataset's own report of a test evaluation (the Decathlon's per-label table,
// ACDC's per-phase figures and clinical agreement, PROMISE12's regions) as rows of a table, plain so it is
// tested in Node. An object of numbers only (a summary: mean, std, median, n) is one row under the path of
// names leading to it; per-case and per-patient lists are left out, since the per-case table shows cases.

export interface ReportRow {
  /** The names leading to the figures, e.g. ['perLabel', 'Anterior', 'dice']. */
  path: string[];
  /** The figures, by name; a number on its own is named 'value'. */
  values: Record<string, number>;
}

function numbersOnly(value: object): Record<string, number> | null {
  const entries = Object.entries(value);
  return entries.length > 0 && entries.every(([, v]) => typeof v === 'number')
    ? (Object.fromEntries(entries) as Record<string, number>)
    : null;
}

export function reportRows(report: Record<string, unknown> | null): ReportRow[] {
  const rows: ReportRow[] = [];
  const walk = (value: unknown, path: string[]) => {
    if (typeof value === 'number') rows.push({ path, values: { value } });
    if (value === null || typeof value !== 'object' || Array.isArray(value)) return;
    const numbers = numbersOnly(value);
    if (numbers) rows.push({ path, values: numbers });
    else for (const [key, inner] of Object.entries(value)) walk(inner, [...path, key]);
  };
  walk(report, []);
  return rows;
}
