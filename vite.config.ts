// Runs in: a plain Node process (vite build / vite dev, and vitest's renderer project). Builds the Svelte
// renderer from renderer/ into dist/renderer/, with relative asset paths so the same build loads from the
// desktop app's app://emonas and from `emonas serve`'s http://127.0.0.1.
import { fileURLToPath } from 'node:url';
import { svelte } from '@sveltejs/vite-plugin-svelte';
import { defineConfig } from 'vite';

export default defineConfig({
  root: fileURLToPath(new URL('./renderer', import.meta.url)),
  base: './',
  plugins: [svelte({ configFile: false })],
  build: {
    outDir: fileURLToPath(new URL('./dist/renderer', import.meta.url)),
    emptyOutDir: true,
    target: 'chrome120',
  },
  // The renderer imports core/api from outside its own folder.
  server: { fs: { allow: [fileURLToPath(new URL('.', import.meta.url))] } },
});
