#!/usr/bin/env node
// Runs in: a plain Node process, before node_modules exists. Installs the project from its lockfile.
// npm 11 runs no dependency install scripts unless package.json allows them (allowScripts): Electron's
// binary download is denied there, so an offline machine installs cleanly. `npm run electron:fetch`
// fetches the Electron binary where the network allows.
import { spawnSync } from 'node:child_process';

const env = { ...process.env, ELECTRON_SKIP_BINARY_DOWNLOAD: '1' };
const r = spawnSync('npm', ['ci', '--no-audit', '--no-fund'], { stdio: 'inherit', env });
if (r.status !== 0) {
  console.error('emonas setup: npm ci failed (see above).');
  process.exit(r.status ?? 1);
}
console.log('\nEmonas Studio is set up. Try: npx emonas --help, or npx emonas demo');
