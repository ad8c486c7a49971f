import js from '@eslint/js';
import svelte from 'eslint-plugin-svelte';
import globals from 'globals';
import tseslint from 'typescript-eslint';
import layers from './lint/import-layers.js';

export default tseslint.config(
  {
    ignores: [
      'node_modules/',
      'dist/',
      'out/',
      'build/',
      '**/*.as.ts',
      'core/**/assembly/',
      'test-artifacts/',
      '.train-scratch/',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  ...svelte.configs.recommended,
  {
    // Imports between folders: docs/architecture.md's Layout table, read from lint/layout.json.
    plugins: { layers },
    rules: { 'layers/allowed-imports': 'error' },
  },
  {
    languageOptions: {
      globals: { process: 'readonly', console: 'readonly', Buffer: 'readonly', URL: 'readonly' },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-restricted-imports': [
        'error',
        {
          paths: [
            { name: 'electron', message: 'Only electron/ imports electron.' },
            { name: 'svelte', message: 'Only renderer/ imports svelte.' },
          ],
          patterns: [
            {
              group: ['svelte/*', '@cornerstonejs/*'],
              message: 'Only electron/ imports electron; only renderer/ imports svelte or Cornerstone.',
            },
          ],
        },
      ],
    },
  },
  {
    // Electron glue, tests (which may import everything) and the build configurations.
    files: ['electron/**', 'test/**', 'vite.config.ts', 'vitest.config.ts'],
    rules: { 'no-restricted-imports': 'off' },
  },
  {
    // The contract runs in the renderer too: no Node (its folders are the layers rule's).
    files: ['core/api/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['node:*', '/ws', '/electron', '/svelte'],
              message: 'core/api runs in the renderer: no Node, no libraries.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['renderer/**/*.ts', 'renderer/**/*.svelte'],
    languageOptions: {
      globals: globals.browser,
      parserOptions: { parser: tseslint.parser, extraFileExtensions: ['.svelte'] },
    },
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['node:*', '/electron', '/ws'],
              message: 'The renderer never touches Node or Electron.',
            },
          ],
        },
      ],
    },
  },
);
