// Starts the real `emonas serve` command as a child process on a free port and reads the address and token
// it prints, the way a user would; opens the app on it in a watched Chromium page (and closes both after the
// file's tests); and calls the engine over its WebSocket as any client would.
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach } from 'vitest';
import WebSocket from 'ws';
import { openWatchedPage, type PageProblems } from './chromium.ts';
import { buildRendererOnce } from './renderer-build.ts';

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

/** A port free right now, for an engine that must come back on the same address after a restart. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** One call to the engine over its WebSocket, as any client of `emonas serve` would make it. */
export function callEngine<T>(serve: ServeProcess, method: string, input: unknown): Promise<T> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(`${serve.apiUrl}?token=${serve.token}`);
    socket.once('open', () => socket.send(JSON.stringify({ id: 1, method, input })));
    socket.once('error', reject);
    socket.on('message', (data: Buffer) => {
      const message = JSON.parse(data.toString('utf8')) as {
        id?: number;
        result?: { ok: boolean; value?: unknown; error?: unknown };
      };
      if (message.id !== 1) return;
      socket.close();
      if (message.result?.ok) resolve(message.result.value as T);
      else reject(new Error(JSON.stringify(message.result?.error)));
    });
  });
}

export interface OpenApp {
  serve: ServeProcess;
  context: BrowserContext;
  page: Page;
  problems: PageProblems;
}

/**
 * The app as an end-to-end file starts it: the renderer built (once), `emonas serve` on `dataDir`, and a
 * Chromium page watched for problems (but those `harmless` matches), not yet pointed at the app.
 */
export async function openApp(
  dataDir: string,
  harmless?: RegExp,
  options: { port?: number; token?: string } = {},
): Promise<OpenApp> {
  await buildRendererOnce();
  const serve = await startServe(dataDir, options);
  return { serve, ...(await openWatchedPage(harmless)) };
}

/**
 * The hooks of a file that opened the app: what the page showed when a test failed (`shot` takes the
 * picture's name, to see why), and the browser and the engine closed after the file. `app` reads the file's
 * app as it is then (an engine killed and restarted by a test is a new one).
 */
export function closeAppAfterTests(
  app: () => Partial<OpenApp>,
  shot: (name: string) => Promise<unknown>,
): void {
  afterEach(async (test) => {
    if (test.task.result?.state === 'fail') await shot(`failed-${test.task.name.slice(0, 40)}`);
  });
  afterAll(async () => {
    const { context, serve } = app();
    await context?.close();
    await serve?.stop();
  });
}
