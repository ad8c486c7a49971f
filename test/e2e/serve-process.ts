// Starts the real `emonas serve` command as a child process on a free port and reads the address and token
// it prints, the way a user would.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export interface ServeProcess {
  appUrl: string;
  apiUrl: string;
  token: string;
  output: () => string;
  stop(): Promise<void>;
  /** Kills the engine at once (SIGKILL), as a crash would. */
  kill(): Promise<void>;
}

const BIN = fileURLToPath(new URL('../../bin/emonas.mjs', import.meta.url));

export function startServe(
  dataDir: string,
  options: { port?: number; token?: string } = {},
): Promise<ServeProcess> {
  const args = [BIN, 'serve', '--port', String(options.port ?? 0), '--data-dir', dataDir];
  if (options.token) args.push('--token', options.token);
  const child: ChildProcess = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const ended = (signal: NodeJS.Signals) =>
    new Promise<void>((done) => {
      if (child.exitCode !== null || child.signalCode !== null) return done();
      child.once('exit', () => done());
      child.kill(signal);
    });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`emonas serve did not start within 60 s:\n${out}`)),
      60_000,
    );
    child.once('exit', (code) => reject(new Error(`emonas serve exited with ${code}:\n${out}`)));
    child.stdout?.on('data', () => {
      const app = /open the app: (http:\/\/127\.0\.0\.1:\d+\/\?token=([A-Za-z0-9_-]+))/.exec(out);
      const api = /engine API on (ws:\/\/127\.0\.0\.1:\d+\/api)/.exec(out);
      if (!app || !api) return;
      clearTimeout(timer);
      resolve({
        appUrl: app[1] as string,
        token: app[2] as string,
        apiUrl: api[1] as string,
        output: () => out,
        stop: () => ended('SIGTERM'),
        kill: () => ended('SIGKILL'),
      });
    });
  });
}
