import js from '@eslint/js';
import tseslint from 'typescript-eslint';

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
      'renderer/',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: { process: 'readonly', console: 'readonly', Buffer: 'readonly', URL: 'readonly' },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['electron', 'svelte', '@cornerstonejs/*'],
              message: 'Only electron/ imports electron; only renderer/ imports svelte or Cornerstone.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['electron/**'],
    rules: { 'no-restricted-imports': 'off' },
  },
);
