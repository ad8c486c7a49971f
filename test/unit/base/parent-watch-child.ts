// Child process of parent-watch.test.ts. As 'middle-*' it starts the watched process and waits to be
// killed; as 'idle' or 'busy' it is the watched process, which writes <marker>.ready (its pid) once its
// watch is in place and <marker> from onLost: idle leaves its event loop free (no IPC channel, so only the
// watching thread can notice the loss), busy holds its main thread forever (an IPC channel whose
// 'disconnect' can never be delivered), as a long training step does.
import { fork, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { watchParent } from '../../../core/base/parent-watch.ts';

const [mode, marker] = process.argv.slice(2) as [string, string];
const self = fileURLToPath(import.meta.url);

if (mode === 'middle-idle' || mode === 'middle-busy') {
  const watched = mode === 'middle-idle' ? 'idle' : 'busy';
  const args = ['--import', 'tsx', self, watched, marker];
  if (watched === 'idle') spawn(process.execPath, args, { stdio: 'ignore', detached: true });
  else fork(self, [watched, marker], { execArgv: ['--import', 'tsx'], stdio: 'ignore', detached: true });
  setInterval(() => undefined, 1000);
} else {
  watchParent(() => {
    writeFileSync(marker, 'parent lost');
    process.exit(0);
  });
  writeFileSync(`${marker}.ready`, String(process.pid));
  if (mode === 'busy') for (;;);
  setInterval(() => undefined, 1000);
}
