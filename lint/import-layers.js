// Runs in: ESLint (Node). The rule `layers/allowed-imports`: every relative import between the folders of
// lint/layout.json (the Layout table of docs/architecture.md) must be one the table allows, so the layering
// cannot drift again without a lint error. Packages are left to no-restricted-imports.
import { readFileSync } from 'node:fs';
import { dirname, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const layout = JSON.parse(readFileSync(resolve(root, 'lint/layout.json'), 'utf8'));

/** The table's folders, longest first, so a file belongs to its most specific row. */
const rows = [...layout.rows].sort((a, b) => b.folder.length - a.folder.length);

function rowOf(repoPath) {
  return rows.find((row) => repoPath === row.folder || repoPath.startsWith(`${row.folder}/`)) ?? null;
}

function repoPath(absolute) {
  return relative(root, absolute).split(sep).join('/');
}

function entryMatches(entry, target, targetRow) {
  if (entry.folder === undefined) return false;
  if (entry.folder === 'core') return targetRow.folder.startsWith('core/');
  if (entry.folder !== targetRow.folder) return false;
  return entry.files === undefined || entry.files.includes(target.slice(targetRow.folder.length + 1));
}

function describe(entry) {
  const narrowing = [
    ...(entry.files ? [`${entry.files.join(', ')} only`] : []),
    ...(entry.typesOnly ? ['types only'] : []),
  ];
  return `${entry.folder === 'core' ? 'all of core' : entry.folder}${narrowing.length ? ` (${narrowing.join(', ')})` : ''}`;
}

function allowedText(row) {
  const folders = row.imports.filter((entry) => entry.folder !== undefined);
  return folders.length === 0 ? 'nothing outside itself' : folders.map(describe).join(', ');
}

/**
 * True for `import type` and `export type` only: with verbatimModuleSyntax an import whose every binding is
 * marked `type` still loads the module for its side effects, so it is not types alone.
 */
function typesOnly(node) {
  return node.importKind === 'type' || node.exportKind === 'type';
}

const allowedImports = {
  meta: {
    type: 'problem',
    docs: { description: "Imports between folders follow docs/architecture.md's Layout table." },
    schema: [],
    messages: {
      forbidden:
        '{{from}} may not import {{target}}: the Layout table (docs/architecture.md, lint/layout.json) lets {{from}} import {{allowed}}.',
      typesOnly:
        '{{from}} may import only types from {{folder}}; {{target}} is imported for its values (use `import type`).',
    },
  },
  create(context) {
    const file = repoPath(context.filename);
    const fromRow = rowOf(file);
    if (fromRow === null || !Array.isArray(fromRow.imports)) return {};

    function check(node, source) {
      if (source?.type !== 'Literal' || typeof source.value !== 'string') return;
      const specifier = source.value.split('?')[0];
      if (!specifier.startsWith('.')) return;
      const target = repoPath(resolve(dirname(context.filename), specifier));
      const targetRow = rowOf(target);
      if (targetRow === fromRow) return;
      const entry = targetRow && fromRow.imports.find((e) => entryMatches(e, target, targetRow));
      if (!entry) {
        context.report({
          node: source,
          messageId: 'forbidden',
          data: { from: fromRow.folder, target, allowed: allowedText(fromRow) },
        });
      } else if (entry.typesOnly && !typesOnly(node)) {
        context.report({
          node: source,
          messageId: 'typesOnly',
          data: { from: fromRow.folder, folder: targetRow.folder, target },
        });
      }
    }

    return {
      ImportDeclaration: (node) => check(node, node.source),
      ExportNamedDeclaration: (node) => check(node, node.source),
      ExportAllDeclaration: (node) => check(node, node.source),
      ImportExpression: (node) => check(node, node.source),
    };
  },
};

export default { rules: { 'allowed-imports': allowedImports } };
