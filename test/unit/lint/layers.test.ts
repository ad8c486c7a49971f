// Runs in: vitest (Node). The layering rule: docs/architecture.md's Layout table says what lint/layout.json
// holds, every core folder has a row, and ESLint under the repository's own configuration reports an import
// the table forbids (in a scratch copy of a real core file, for every pair of folders, and into a folder the
// table does not list) but no allowed one.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, posix, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ESLint } from 'eslint';
import { beforeAll, describe, expect, it } from 'vitest';
import layoutJson from '../../../lint/layout.json';

interface ImportEntry {
  folder?: string;
  package?: string;
  files?: string[];
  typesOnly?: boolean;
  note?: string;
}
interface Row {
  folder: string;
  imports: ImportEntry[] | '*' | null;
}

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const rows = (layoutJson as { rows: Row[] }).rows;
const RULE = 'layers/allowed-imports';

function cell(row: Row): string {
  if (row.imports === null) return '-';
  if (row.imports === '*') return 'everything';
  if (row.imports.length === 0) return 'nothing';
  return row.imports
    .map((entry) => {
      const name =
        entry.package ??
        (entry.folder === 'core'
          ? 'all of core'
          : row.folder.startsWith('core/') && entry.folder?.startsWith('core/')
            ? entry.folder.slice('core/'.length)
            : entry.folder);
      return entry.note ? `${name} (${entry.note})` : name;
    })
    .join(', ');
}

/** The Layout section's table as [folder, may import] pairs. */
function documentedTable(): [string, string][] {
  const text = readFileSync(join(root, 'docs/architecture.md'), 'utf8');
  const section = text.slice(text.indexOf('## Layout'), text.indexOf('Rules that keep the rooms apart'));
  return section
    .split('\n')
    .filter((line) => line.startsWith('| ') && !line.startsWith('| folder') && !line.startsWith('| ---'))
    .map((line) => {
      const cells = line.split('|').map((c) => c.trim());
      return [cells[1] ?? '', cells[3] ?? ''];
    });
}

function layersMessages(results: ESLint.LintResult[]): { line: number; message: string }[] {
  return results.flatMap((r) => r.messages.filter((m) => m.ruleId === RULE));
}

describe('the Layout table', () => {
  it('says in docs/architecture.md what lint/layout.json holds', () => {
    const documented = documentedTable();
    expect(documented.length).toBeGreaterThan(10);
    expect(documented).toEqual(rows.map((row) => [row.folder, cell(row)]));
  });

  it('names every narrowed import in the document, and has a row for every core folder', () => {
    const narrowed = rows.flatMap((row) =>
      Array.isArray(row.imports) ? row.imports.filter((e) => e.files || e.typesOnly) : [],
    );
    expect(narrowed.length).toBeGreaterThan(0);
    for (const entry of narrowed) expect(entry.note, JSON.stringify(entry)).toBeTruthy();
    const folders = readdirSync(join(root, 'core'), { withFileTypes: true })
      .filter((d) => d.isDirectory())
      .map((d) => `core/${d.name}`);
    expect(folders).toContain('core/api');
    const tabled = new Set(rows.map((row) => row.folder));
    expect(folders.filter((folder) => !tabled.has(folder))).toEqual([]);
  });
});

describe('eslint with the repository configuration', () => {
  let eslint: ESLint;
  beforeAll(() => {
    eslint = new ESLint({ cwd: root });
  });

  it('reports a forbidden import added to a scratch copy of a core file, and nothing in the copy itself', async () => {
    const original = readFileSync(join(root, 'core/metrics/overlap.ts'), 'utf8');
    const filePath = join(root, 'core/metrics/lint-scratch.ts');
    expect(layersMessages(await eslint.lintText(original, { filePath }))).toEqual([]);
    const lines = original.split('\n');
    const at = lines.findIndex((line) => line.startsWith('import '));
    expect(at).toBeGreaterThan(0);
    lines.splice(at, 0, "import { startSearch } from '../service/search.ts';");
    const messages = layersMessages(await eslint.lintText(lines.join('\n'), { filePath }));
    expect(messages).toHaveLength(1);
    expect(messages[0]?.line).toBe(at + 1);
    expect(messages[0]?.message).toContain('core/metrics may not import core/service/search.ts');
  });

  it('reports every import between folders the table forbids and none it allows', async () => {
    let forbiddenLines = 0;
    let allowedLines = 0;
    for (const row of rows) {
      if (row.imports === null) continue;
      const entries = row.imports === '*' ? null : row.imports;
      const lines = [`// Runs in: nowhere. A probe of ${row.folder}'s imports.`];
      const expected: number[] = [];
      const add = (line: string, forbidden: boolean) => {
        lines.push(line);
        if (forbidden) expected.push(lines.length);
      };
      for (const target of rows) {
        if (target === row) continue;
        const path = (file: string) => posix.relative(row.folder, `${target.folder}/${file}`);
        const entry = entries?.find(
          (e) => e.folder === target.folder || (e.folder === 'core' && target.folder.startsWith('core/')),
        );
        const allowedWhole = entries === null || (entry !== undefined && !entry.files && !entry.typesOnly);
        add(`import '${path('probe.ts')}';`, !allowedWhole);
        if (entry?.files) {
          for (const file of entry.files) {
            add(`import ${entry.typesOnly ? 'type { Probe } from ' : ''}'${path(file)}';`, false);
            if (entry.typesOnly) add(`import { probe } from '${path(file)}';`, true);
          }
        } else if (entry?.typesOnly) {
          add(`import type { Probe } from '${path('probe.ts')}';`, false);
          add(`import { type Probe, probe } from '${path('probe.ts')}';`, true);
          add(`import { type Probe } from '${path('probe.ts')}';`, true);
        }
      }
      add(`import '${posix.relative(row.folder, 'bench/probe.ts')}';`, entries !== null);
      const filePath = join(root, row.folder, 'lint-probe.ts');
      const found = layersMessages(await eslint.lintText(lines.join('\n'), { filePath }));
      expect(
        found.map((m) => m.line),
        `${row.folder}:\n${lines.join('\n')}`,
      ).toEqual(expected);
      forbiddenLines += expected.length;
      allowedLines += lines.length - 1 - expected.length;
    }
    expect(forbiddenLines).toBeGreaterThan(100);
    expect(allowedLines).toBeGreaterThan(20);
  });
});
